"""A long answer in a channel is posted as messages Slack accepts: the first where it was asked, the rest in
its thread, in order, nothing cut off."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.slack.blocks import CONTINUED, answer_messages
from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event
from tests.slack.replies import PILLARS, MakeApp, text_of

pytestmark = pytest.mark.slow


class LongAnswerer(Answerer):
    """The real answer, its quotes said 40 times over: far more than one message holds."""

    def __init__(self, real: Answerer) -> None:
        super().__init__(real.retriever, real.settings, real.top_k)

    def ask(self, question: str, k: int | None = None) -> Answer:
        answer = super().ask(question, k)
        return dataclasses.replace(answer, quotes=answer.quotes * 40)


def test_a_long_answer_goes_on_in_the_thread(fake_slack: FakeSlack, socket_app: MakeApp, answerer: Answerer) -> None:
    socket_app(custom_answerer=LongAnswerer(answerer))
    event = app_mention_event(f"<@UBOT> {PILLARS}", channel="C7", ts="1700000000.000100")
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", event))
    expected = len(answer_messages(LongAnswerer(answerer).ask(PILLARS), answer_id="x"))
    posts = fake_slack.wait_for_call("chat.postMessage", count=expected, timeout=10)
    assert expected >= 3 and all(p.body["thread_ts"] == "1700000000.000100" for p in posts)
    assert not any(fake_slack.refused(p) for p in posts)
    assert "Sources" in text_of(posts[0]) and all(p.body["text"] == CONTINUED for p in posts[1:])
    quoted = answerer.ask(PILLARS).quotes[0].text.split()[0]
    assert sum(text_of(p).count(quoted) for p in posts) >= 40  # every repetition arrived


def test_a_long_direct_message_answer_continues_under_the_first_message(
    fake_slack: FakeSlack, socket_app: MakeApp, answerer: Answerer
) -> None:
    socket_app(custom_answerer=LongAnswerer(answerer))
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event(PILLARS, channel="D7")))
    first, second = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)[:2]
    assert first.body.get("thread_ts") is None
    assert second.body["thread_ts"] == fake_slack.posted_ts(first)
