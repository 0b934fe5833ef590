"""When answering goes wrong: the user gets a short apology, never the error's details."""

from __future__ import annotations

import pytest

from bot.answering.answer import Answer
from bot.slack.blocks import APOLOGY
from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event
from tests.slack.replies import PILLARS, MakeApp, text_of

pytestmark = pytest.mark.slow


def test_an_error_while_answering_gives_an_apology_and_no_details(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    class BrokenAnswerer:
        def ask(self, question: str, k: int | None = None) -> Answer:
            raise RuntimeError("index file /srv/secret/index.faiss is corrupt")

    socket_app(custom_answerer=BrokenAnswerer())
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000800"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["thread_ts"] == "1700.000800" and text_of(post).startswith(APOLOGY)
    assert "secret" not in text_of(post) and "RuntimeError" not in text_of(post)
    fake_slack.wait_for_call("reactions.remove")


def test_a_rejected_reply_still_gets_an_apology(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.script("chat.postMessage", body={"ok": False, "error": "invalid_blocks"})
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [_, apology] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert apology.body["text"] == APOLOGY
