"""In Slack, a full feedback disk: questions are still answered, and a lost vote or correction is owned up to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.slack.blocks import APOLOGY, FEEDBACK_MODAL
from bot.slack.blocks import HELPFUL as BUTTON_HELPFUL
from bot.slack.listeners.actions import CORRECTION_NOT_SAVED
from bot.state.feedback import HELPFUL, FeedbackStore
from tests.disk_faults import fill
from tests.slack.fakeslack import FakeSlack, block_action_payload, dm_event, view_submission_payload
from tests.state.answers import stored_answer
from tests.state.stored import stored_votes


@pytest.mark.slow
def test_in_slack_a_full_feedback_disk_still_answers_and_apologises_for_a_lost_vote(
    small_disk: Path, fake_slack: FakeSlack, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    store.record_answer("earlier", stored_answer(), [], "U1", "C1")
    store.record_vote("earlier", "U1", "C1", HELPFUL)
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    bolt_socket_mode(build_app(SlackConfig(feedback_db=store.db.path), answerer, client, store, working_after=5.0))
    filler = fill(small_disk)
    fake_slack.send_envelope("events_api", dm_event("What pillars do the AMP recommendations rest on?"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=10)
    assert "[1]" in post.body["blocks"][0]["text"]["text"]  # answered, only without feedback buttons
    click = block_action_payload(BUTTON_HELPFUL, "earlier", user="U2", response_url=fake_slack.response_url("vote"))
    for _ in range(200):  # votes are tiny: keep clicking until the disk refuses one
        fake_slack.send_envelope("interactive", click)
        [reply] = fake_slack.wait_for_call("response/vote", timeout=5)[-1:]
        if reply.body.get("text") == APOLOGY:
            break
        fake_slack.calls.clear()
    assert reply.body["text"] == APOLOGY  # the user is told, not left in silence
    filler.unlink()
    votes = {(v["user"], v["vote"]) for v in stored_votes(store.db)}
    assert ("U1", HELPFUL) in votes  # the earlier vote survived


def test_in_slack_a_correction_that_cannot_be_saved_keeps_the_modal_open_and_says_so(
    small_disk: Path, fake_slack: FakeSlack, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    store.record_answer("earlier", stored_answer(), [], "U1", "C1")
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    bolt_socket_mode(build_app(SlackConfig(feedback_db=store.db.path), answerer, client, store))
    filler = fill(small_disk)
    correction = {"correct_answer": {"value": "x" * 2900}, "correct_source": {"value": "Key Policies"}}
    for _ in range(200):  # keep submitting until the full disk refuses one
        ack = fake_slack.wait_for_ack(
            fake_slack.send_envelope("interactive", view_submission_payload(FEEDBACK_MODAL, "earlier", correction))
        )
        if ack.get("payload", {}).get("response_action") == "errors":
            break
    assert ack["payload"] == {"response_action": "errors", "errors": {"correct_answer": CORRECTION_NOT_SAVED}}
    filler.unlink()
    saved = len(store.report().corrections)
    ack = fake_slack.wait_for_ack(
        fake_slack.send_envelope("interactive", view_submission_payload(FEEDBACK_MODAL, "earlier", correction))
    )
    assert "payload" not in ack  # the modal closes: stored
    assert len(store.report().corrections) == saved + 1
