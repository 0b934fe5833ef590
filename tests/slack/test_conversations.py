"""A Slack thread is one conversation: follow-ups are read in its context and answered as the REPL and
`ask --batch` answer the same conversation; a DM outside a thread lapses after `slack.dm_idle_minutes`.
Real slack-bolt and slack-sdk against FakeSlack, real answerer."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.answering.followup import Turn, turn_of
from bot.batch import answer_lines
from bot.render.terminal import render_text
from bot.repl import run_repl
from bot.slack.blocks import NOT_HELPFUL, answer_mrkdwn
from bot.slack.mrkdwn import escape
from bot.state.feedback import FeedbackStore
from tests.slack.fakeslack import FakeSlack, app_mention_event, block_action_payload, dm_event, thread_message_event
from tests.slack.replies import MakeApp, answer_of, buttons, reading_of
from tests.state.stored import stored_votes

pytestmark = pytest.mark.slow

CONVERSATION = [
    "What did the 2011 PCAST report recommend?",
    "And the 2012 one?",
    "Who commissioned them?",
    "How do I bake sourdough bread?",  # an aside: stands alone, and the topic survives it
    "Did it say anything about tax?",
]


def in_conversation(answerer: Answerer, questions: list[str]) -> list[Answer]:
    """Each question asked after the ones before it, as every front end asks them."""
    turns: list[Turn] = []
    answers = []
    for question in questions:
        answers.append(answerer.ask(question, history=turns))
        turns.append(turn_of(answers[-1]))
    return answers


def reader(lines: list[str]) -> Callable[[str], str]:
    """The REPL's input: each line, then the end of input."""
    pending = iter(lines)

    def read(prompt: str) -> str:
        line = next(pending, None)
        if line is None:
            raise EOFError
        return line

    return read


def test_a_thread_is_answered_as_the_repl_and_the_batch_answer_the_same_conversation(
    fake_slack: FakeSlack, socket_app: MakeApp, answerer: Answerer
) -> None:
    expected = in_conversation(answerer, CONVERSATION)
    assert expected[1].interpreted_question == "What did the 2012 PCAST report recommend?"
    assert not expected[3].interpreted_question and expected[3].abstained  # the aside, answered as alone
    assert "PCAST" in expected[4].interpreted_question

    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {CONVERSATION[0]}", ts="1700.000100"))
    fake_slack.wait_for_call("chat.postMessage", timeout=10)
    for n, question in enumerate(CONVERSATION[1:], start=2):
        fake_slack.send_envelope("events_api", thread_message_event(question, thread_ts="1700.000100"))
        fake_slack.wait_for_call("chat.postMessage", count=n, timeout=10)
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p.body["thread_ts"] for p in posts] == ["1700.000100"] * len(CONVERSATION)
    for post, answer in zip(posts, expected, strict=True):
        assert reading_of(post) == (escape(answer.reading_note) if answer.reading_note else None)
        assert answer_of(post) == answer_mrkdwn(answer)

    transcript: list[str] = []
    run_repl(answerer, reader(CONVERSATION), transcript.append)
    shown = "\n".join(transcript)
    for answer in expected:
        assert render_text(answer) in shown

    lines = [json.dumps({"id": n, "conversation": "t", "question": q}) for n, q in enumerate(CONVERSATION)]
    out: list[str] = []
    answer_lines(answerer, lines, out.append, lambda text: None, as_json=True)
    records = [json.loads(text) for text in out]
    assert [r["interpreted_question"] for r in records] == [a.read_as for a in expected]
    assert [r["answer"] for r in records] == [a.text for a in expected]


def test_another_thread_is_another_conversation(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {CONVERSATION[0]}", ts="1700.000200"))
    fake_slack.wait_for_call("chat.postMessage", timeout=10)
    fake_slack.send_envelope("events_api", app_mention_event("<@UBOT> And the 2012 one?", ts="1700.000300"))
    [_, other] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    assert other.body["thread_ts"] == "1700.000300" and reading_of(other) is None


@pytest.mark.parametrize(("idle_minutes", "in_context"), [(30, True), (0, False)])
def test_a_dm_outside_a_thread_continues_until_its_idle_time(
    fake_slack: FakeSlack, socket_app: MakeApp, idle_minutes: float, in_context: bool
) -> None:
    socket_app(dm_idle_minutes=idle_minutes)
    fake_slack.send_envelope("events_api", dm_event(CONVERSATION[0], channel="D9"))
    fake_slack.wait_for_call("chat.postMessage", timeout=10)
    fake_slack.send_envelope("events_api", dm_event("And the 2012 one?", channel="D9"))
    [_, follow_up] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    expected = "Reading this as: What did the 2012 PCAST report recommend?"
    assert reading_of(follow_up) == (expected if in_context else None)


def test_a_vote_on_a_follow_up_is_reported_under_the_question_it_answered(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {CONVERSATION[0]}", ts="1700.000400"))
    fake_slack.wait_for_call("chat.postMessage", timeout=10)
    fake_slack.send_envelope("events_api", thread_message_event("And the 2012 one?", thread_ts="1700.000400"))
    [_, follow_up] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    click = block_action_payload(NOT_HELPFUL, buttons(follow_up)[NOT_HELPFUL], response_url=fake_slack.response_url())
    fake_slack.wait_for_ack(fake_slack.send_envelope("interactive", click))
    fake_slack.wait_for_call("views.open", timeout=5)  # "Not helpful" is stored, and asks for a correction
    [vote] = stored_votes(store.db)
    assert (vote["question"], vote["interpreted"]) == ("And the 2012 one?", "What did the 2012 PCAST report recommend?")
    assert store.report().worst == [("What did the 2012 PCAST report recommend?", 1)]
