"""Feedback buttons: a helpful click is stored with its answer; "not helpful" opens a modal, its correction stored."""

from __future__ import annotations

import pytest

from bot.slack.blocks import FEEDBACK_MODAL, HELPFUL, NOT_HELPFUL
from bot.state.feedback import FeedbackStore
from tests.slack.fakeslack import FakeSlack, app_mention_event, block_action_payload, dm_event, view_submission_payload
from tests.slack.replies import PILLARS, MakeApp, buttons
from tests.state.stored import stored_votes

pytestmark = pytest.mark.slow


def test_helpful_click_is_stored_with_the_answer(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="C9"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    click = block_action_payload(
        HELPFUL, buttons(post)[HELPFUL], user="U7", channel="C9", response_url=fake_slack.response_url("vote")
    )
    envelope = fake_slack.send_envelope("interactive", click)
    fake_slack.wait_for_ack(envelope)
    [thanks] = fake_slack.wait_for_call("response/vote", timeout=5)
    assert thanks.body["response_type"] == "ephemeral" and "Thanks" in thanks.body["text"]
    [vote] = stored_votes(store.db)
    assert (vote["vote"], vote["user"], vote["channel"], vote["question"]) == ("helpful", "U7", "C9", PILLARS)
    assert vote["passage_ids"] and vote["passage_ids"][0].startswith("united-states/key-policies.md#")
    assert vote["index_version"] and "three pillars" in vote["answer"]


def test_not_helpful_opens_a_modal_whose_correction_is_stored(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    answer_id = buttons(post)[NOT_HELPFUL]
    fake_slack.send_envelope("interactive", block_action_payload(NOT_HELPFUL, answer_id, trigger_id="trig-1"))
    [opened] = fake_slack.wait_for_call("views.open", timeout=5)
    view = opened.body["view"]
    assert opened.body["trigger_id"] == "trig-1" and view["callback_id"] == FEEDBACK_MODAL
    assert [b.get("block_id") for b in view["blocks"]][1:] == ["correct_answer", "correct_source"]
    submission = view_submission_payload(
        FEEDBACK_MODAL,
        view["private_metadata"],
        {
            "correct_answer": {"value": "innovation, talent, business climate"},
            "correct_source": {"value": "Capturing Domestic Competitive Advantage"},
        },
    )
    envelope = fake_slack.send_envelope("interactive", submission)
    assert fake_slack.wait_for_ack(envelope) == {"envelope_id": envelope}  # the modal closes
    report = store.report()
    assert report.not_helpful == 1 and report.worst == [(PILLARS, 1)]
    [correction] = report.corrections
    assert correction.right_answer == "innovation, talent, business climate"
    assert correction.right_source == "Capturing Domestic Competitive Advantage"
