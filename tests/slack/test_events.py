"""Asking in Slack: mentions, direct messages and thread follow-ups are answered; bots, other channels and
threads the bot never joined are not. Real slack-bolt and slack-sdk against FakeSlack, real answerer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.answering.answerer import Answerer
from bot.slack.blocks import HELPFUL, NOT_HELPFUL
from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event, thread_message_event
from tests.slack.replies import OBJECTIVES, PILLARS, MakeApp, buttons, posts_after_sentinel, text_of
from tests.slack.slow import SlowAnswerer

pytestmark = pytest.mark.slow


def test_mention_is_answered_in_its_thread_with_cited_blocks(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    envelope = fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000100"))
    assert fake_slack.wait_for_ack(envelope) == {"envelope_id": envelope}
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["channel"] == "C1" and post.body["thread_ts"] == "1700.000100"
    answer, sources = post.body["blocks"][0]["text"]["text"], post.body["blocks"][1]["text"]["text"]
    assert "three pillars" in answer and "[1]" in answer
    assert sources.startswith("*Sources*\n<https://www.manufacturing-policy.eng.cam.ac.uk/")
    assert "#:~:text=Those%20sixteen%20recommendations" in sources  # the link highlights the answering sentence
    assert set(buttons(post)) == {HELPFUL, NOT_HELPFUL}
    [added] = fake_slack.wait_for_call("reactions.add")
    [removed] = fake_slack.wait_for_call("reactions.remove")
    for call in (added, removed):
        assert (call.body["channel"], call.body["timestamp"], call.body["name"]) == ("C1", "1700.000100", "eyes")


def test_direct_message_is_answered_in_the_dm(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", dm_event(OBJECTIVES, channel="D7"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["channel"] == "D7" and "thread_ts" not in post.body
    assert "five objectives" in text_of(post) and "• Accelerate investment" in text_of(post)


def test_slow_answer_is_acked_at_once_and_shows_a_reaction_meanwhile(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    bolt_socket_mode(make_app(custom_answerer=SlowAnswerer(answerer, 1.0), working_after=0.2))
    started = time.monotonic()
    envelope = fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000200"))
    fake_slack.wait_for_ack(envelope, timeout=3)
    assert time.monotonic() - started < 0.5
    fake_slack.wait_for_call("reactions.add", timeout=1)
    assert fake_slack.calls_to("chat.postMessage") == []
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    fake_slack.wait_for_call("reactions.remove", timeout=2)


def test_follow_up_in_an_answered_thread_needs_no_mention(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000300"))
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    fake_slack.send_envelope(
        "events_api", thread_message_event(OBJECTIVES, thread_ts="1700.000300", parent_user_id="U1")
    )
    [_, follow_up] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert follow_up.body["thread_ts"] == "1700.000300" and "five objectives" in text_of(follow_up)
    for chatter in ("thanks!", "<@U2> what do you think about this one?"):
        fake_slack.send_envelope(
            "events_api", thread_message_event(chatter, thread_ts="1700.000300", parent_user_id="U1")
        )
    fake_slack.send_envelope(
        "events_api", thread_message_event(OBJECTIVES, thread_ts="1699.000001", parent_user_id="U1")
    )  # a thread we never joined
    assert len(posts_after_sentinel(fake_slack, expected=2)) == 2


def test_follow_ups_can_be_switched_off(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app(answer_thread_followups=False)
    fake_slack.send_envelope("events_api", thread_message_event(OBJECTIVES, thread_ts="1700.000400"))
    assert posts_after_sentinel(fake_slack, expected=0) == []


def test_mention_inside_an_answered_thread_is_answered_once(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000500"))
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    text, ts = f"<@UBOT> {OBJECTIVES}", "1700.000600"
    fake_slack.send_envelope(
        "events_api", thread_message_event(text, thread_ts="1700.000500", ts=ts, parent_user_id="U1")
    )
    fake_slack.send_envelope("events_api", app_mention_event(text, ts=ts, thread_ts="1700.000500"))
    assert len(posts_after_sentinel(fake_slack, expected=2)) == 2


def test_disallowed_channel_gets_no_reply(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app(allowed_channels=["CALLOWED"])
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="COTHER"))
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="CALLOWED"))
    [post] = posts_after_sentinel(fake_slack, expected=1)
    assert post.body["channel"] == "CALLOWED"
    assert all(c.body["channel"] != "COTHER" for c in fake_slack.calls_to("reactions.add"))


def test_bot_messages_and_its_own_get_no_reply(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    other_bot = dm_event(PILLARS)
    other_bot["event"] |= {"bot_id": "BOTHER", "subtype": "bot_message"}
    bot_mention = app_mention_event(f"<@UBOT> {PILLARS}", user="UOTHERBOT")
    bot_mention["event"]["bot_id"] = "BOTHER"
    own = dm_event(PILLARS, user="UBOT")
    own["event"]["bot_id"] = "BBOT"
    for body in (other_bot, bot_mention, own):
        fake_slack.send_envelope("events_api", body)
    assert posts_after_sentinel(fake_slack, expected=0) == []


def test_empty_mention_gets_a_hint(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event("<@UBOT>"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert "Ask me a question" in text_of(post)
