"""The AI-app surface end to end through FakeSlack: thread started -> suggested prompts from the knowledge
base's sections -> question -> "Searching the policy documents…" -> cited answer -> feedback stored;
and the App Home tab lists what the bot knows."""

from __future__ import annotations

import pytest

from bot.answering.answerer import Answerer
from bot.answering.followup import turn_of
from bot.slack.blocks import HELPFUL, answer_mrkdwn
from bot.slack.listeners.assistant import GREETING, SEARCHING
from bot.slack.mrkdwn import escape
from bot.state.feedback import FeedbackStore
from embeddings.index.changes import format_changes, version_changes
from tests.slack.fakeslack import (
    FakeSlack,
    _event_callback,
    assistant_message_event,
    assistant_thread_started_event,
    block_action_payload,
)
from tests.slack.replies import PILLARS, MakeApp, answer_of, buttons, reading_of, text_of
from tests.state.stored import stored_votes

pytestmark = pytest.mark.slow

THREAD = "1700000000.000100"


def test_an_assistant_thread_suggests_answers_and_takes_feedback(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore, answerer: Answerer
) -> None:
    socket_app()
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", assistant_thread_started_event(THREAD)))
    [greeting] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert greeting.body["text"] == GREETING and greeting.body["thread_ts"] == THREAD
    [prompts] = fake_slack.wait_for_call("assistant.threads.setSuggestedPrompts", timeout=5)
    sections = {p.section[-1] for p in answerer.retriever.index.passages.values() if p.section}
    offered = prompts.body["prompts"]
    assert 1 <= len(offered) <= 4 and all(len(p["title"]) <= 75 for p in offered)
    assert all(p["message"].removesuffix("?").split(" say about ")[1] in sections for p in offered)
    assert (prompts.body["channel_id"], prompts.body["thread_ts"]) == ("D1", THREAD)

    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", assistant_message_event(PILLARS, THREAD)))
    [status] = fake_slack.wait_for_call("assistant.threads.setStatus", timeout=5)
    assert status.body["status"] == SEARCHING and status.body["thread_ts"] == THREAD
    _, answer = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    assert answer.body["thread_ts"] == THREAD and "three pillars" in text_of(answer) and "[1]" in text_of(answer)
    assert fake_slack.calls.index(status) < fake_slack.calls.index(answer)  # the status shows while it is worked on

    click = block_action_payload(
        HELPFUL, buttons(answer)[HELPFUL], channel="D1", response_url=fake_slack.response_url()
    )
    fake_slack.wait_for_ack(fake_slack.send_envelope("interactive", click))
    fake_slack.wait_for_call("response/r1", timeout=5)
    [vote] = stored_votes(store.db)
    assert (vote["vote"], vote["question"], vote["channel"]) == ("helpful", PILLARS, "D1")


def test_a_follow_up_in_an_assistant_thread_is_read_in_its_context(
    fake_slack: FakeSlack, socket_app: MakeApp, answerer: Answerer
) -> None:
    first, follow_up = "What did the 2011 PCAST report recommend?", "And the 2012 one?"
    expected = answerer.ask(follow_up, history=[turn_of(answerer.ask(first))])
    assert expected.interpreted_question == "What did the 2012 PCAST report recommend?"
    socket_app()
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", assistant_thread_started_event(THREAD)))
    fake_slack.wait_for_call("chat.postMessage", timeout=5)  # the greeting
    fake_slack.send_envelope("events_api", assistant_message_event(first, THREAD))
    fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    fake_slack.send_envelope("events_api", assistant_message_event(follow_up, THREAD))
    *_, answer = fake_slack.wait_for_call("chat.postMessage", count=3, timeout=10)
    assert answer.body["thread_ts"] == THREAD
    assert reading_of(answer) == "Reading this as: What did the 2012 PCAST report recommend?"
    assert answer_of(answer) == answer_mrkdwn(expected)  # the 2012 report's answer, not one to the bare words


def test_the_home_tab_lists_the_documents_and_the_index_version(
    fake_slack: FakeSlack, socket_app: MakeApp, answerer: Answerer
) -> None:
    socket_app()
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": THREAD}
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", _event_callback(opened, None)))
    [published] = fake_slack.wait_for_call("views.publish", timeout=5)
    view = published.body["view"]
    shown = "\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"])
    index = answerer.retriever.index
    assert published.body["user_id"] == "U1" and view["type"] == "home"
    assert index.version in shown and all(p.title in shown for p in index.passages.values())
    assert "/policy" in shown
    changes = version_changes(index.path)  # the digest of this version, as posted to slack.changes_channel
    assert bool(changes) == ("*Last update*" in shown)
    if changes:
        assert escape(format_changes(changes)).splitlines()[0] in shown
