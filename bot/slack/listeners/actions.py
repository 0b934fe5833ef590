"""Buttons and the feedback modal: "Helpful", "Not helpful" (opens the modal), "Share in channel".

A vote or a correction is acknowledged only once it is committed to the state database (or kept in
its durable queue): Slack's 200 then means stored, even if the bot is killed the next instant. A
store that fails is still acknowledged in time, and the user is told it was not saved.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks import (
    APOLOGY,
    FEEDBACK_MODAL,
    HELPFUL,
    NOT_HELPFUL,
    SHARE,
    action_buttons,
    feedback_modal,
    without_actions,
)
from bot.slack.delivery import respond_checked, slack_error
from bot.slack.responder import Responder
from bot.state.deadline import DeadlineExceeded
from bot.state.feedback import HELPFUL as HELPFUL_VOTE
from bot.state.feedback import NOT_HELPFUL as NOT_HELPFUL_VOTE

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback: it is used to improve PolicyBot's answers."
GONE = "Sorry, that answer is no longer available. Please ask again."
NOT_SHARED = "Sorry, the answer could not be posted in this channel; your copy is kept. Please try again later."
CORRECTION_NOT_SAVED = "Sorry, the correction could not be saved just now. Please try again in a minute."


def register(app: App, responder: Responder) -> None:
    """Store votes, collect corrections, share slash-command answers."""

    @app.action(HELPFUL)
    def on_helpful(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        problem = _vote(responder, body, action, HELPFUL_VOTE)  # stored (or queued durably) before the ack
        ack()
        responder.work.reply(lambda: _tell(respond, problem or THANKS))

    @app.action(NOT_HELPFUL)
    def on_not_helpful(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        problem = _vote(responder, body, action, NOT_HELPFUL_VOTE)
        ack()
        if problem:
            responder.work.reply(lambda: _tell(respond, problem))
            return

        def open_modal() -> None:  # within 3 s of the click, or the trigger_id expires
            try:
                question = _question(responder, action["value"])
                client.views_open(trigger_id=body["trigger_id"], view=feedback_modal(action["value"], question))
            except Exception as exc:
                log.warning("opening the feedback modal failed: %s", slack_error(exc))
                _tell(respond, THANKS)

        responder.work.reply(open_modal)

    @app.view(FEEDBACK_MODAL)
    def on_correction(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Store the correction, then close the modal; if it cannot be stored, the modal stays
        open and says so, so nothing the user typed is lost silently."""
        values = view.get("state", {}).get("values", {})
        right_answer = values.get("correct_answer", {}).get("value", {}).get("value") or ""
        right_source = values.get("correct_source", {}).get("value", {}).get("value") or ""
        try:
            responder.store.record_correction(
                view.get("private_metadata", ""), body["user"]["id"], right_answer, right_source
            )
        except DeadlineExceeded:  # neither stored nor kept: say so while the user can still resend
            log.warning("storing a correction took too long; the modal stays open")
            ack(response_action="errors", errors={"correct_answer": CORRECTION_NOT_SAVED})
            return
        except Exception:
            log.exception("storing a correction failed")
            ack(response_action="errors", errors={"correct_answer": CORRECTION_NOT_SAVED})
            return
        ack()

    @app.action(SHARE)
    def on_share(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        responder.work.reply(lambda: _share(responder, action["value"], respond))


def _share(responder: Responder, answer_id: str, respond: Respond) -> None:
    """Post the private answer in the channel; only once Slack took it, delete the private copy."""
    try:
        blocks = responder.store.blocks(answer_id)
    except Exception:
        log.exception("reading answer %s to share it failed", answer_id)
        _tell(respond, APOLOGY)
        return
    if blocks is None:
        _tell(respond, GONE)
        return
    shared = [*without_actions(blocks), action_buttons(answer_id)]
    text = next((b["text"]["text"] for b in shared if b.get("type") == "section"), "PolicyBot answer")
    posted = respond_checked(
        respond, "a shared answer", response_type="in_channel", replace_original=False, text=text, blocks=shared
    )
    if not posted:  # the private copy stays: it is the only one
        _tell(respond, NOT_SHARED)
        return
    respond_checked(respond, "the deletion of a shared answer's private copy", delete_original=True)


def _question(responder: Responder, answer_id: str) -> str:
    """The question shown in the modal; without it the modal still opens."""
    try:
        return responder.store.question(answer_id) or ""
    except Exception:
        log.exception("reading the question of answer %s failed", answer_id)
        return ""


def _vote(responder: Responder, body: dict[str, Any], action: dict[str, Any], vote: str) -> str | None:
    """Store the click; None when stored, else what to tell the user."""
    user = body.get("user", {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")
    try:
        stored = responder.store.record_vote(action["value"], user, channel, vote)
    except DeadlineExceeded:  # neither stored nor kept (the store keeps what it can): the user is told
        log.warning("storing a %s vote took too long", vote)
        return APOLOGY
    except Exception:
        log.exception("storing a %s vote failed", vote)
        return APOLOGY
    return None if stored else GONE


def _tell(respond: Respond, text: str) -> None:
    """A short note only the clicking user sees."""
    respond_checked(respond, "a note after a click", response_type="ephemeral", replace_original=False, text=text)
