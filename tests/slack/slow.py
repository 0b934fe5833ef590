"""A real answerer made slower, as a loaded model or a big index would be: for ack tests and benches."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.answering.followup import Turn


class SlowAnswerer(Answerer):
    """The real answerer, taking `seconds` longer per question."""

    def __init__(self, real: Answerer, seconds: float) -> None:
        super().__init__(real.retriever, real.settings, real.top_k)
        self.seconds = seconds

    def ask(
        self, question: str, k: int | None = None, country: str | None = None, history: Sequence[Turn] = ()
    ) -> Answer:
        time.sleep(self.seconds)
        return super().ask(question, k, country, history)
