"""An answer for the feedback store to hold, when what it says is not the point."""

from __future__ import annotations

from bot.answering.answer import Answer


def stored_answer(question: str = "What pillars?") -> Answer:
    """An abstained answer to `question`, from index version "v1"."""
    return Answer(question, (), (), abstained=True, reason="test", index_version="v1")
