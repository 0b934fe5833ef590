"""Events: a mention in a channel, a direct message, a follow-up in a thread the bot answered in.

Bolt acknowledges events before these run (in its worker pool), so slow answers never miss Slack's 3 s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.slack.mrkdwn import mentions, question_text
from bot.slack.responder import Responder

log = logging.getLogger(__name__)

_ANSWERED_SUBTYPES = (None, "thread_broadcast", "file_share")
_OTHER_USER = re.compile(r"<@[UW][A-Z0-9]+")
_QUESTION_WORDS = 3  # a follow-up this short and without "?" ("thanks!", "ok") is not a question


def register(app: App, responder: Responder) -> None:
    """Answer mentions, DMs and thread follow-ups; skip retried or duplicate deliveries."""
    app.middleware(skip_duplicates(responder))

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel = event["channel"]
        if _from_a_bot(event, context) or not responder.allowed(channel):
            return
        if not responder.claim(channel, event["ts"]):
            return
        question = question_text(event.get("text", ""), context.bot_user_id)
        responder.answer_in_channel(
            client, question, event["user"], channel, event["ts"], thread_ts=event.get("thread_ts") or event["ts"]
        )

    @app.event("message")
    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("subtype") not in _ANSWERED_SUBTYPES or _from_a_bot(event, context):
            return
        channel, ts, text = event["channel"], event["ts"], event.get("text", "")
        direct = event.get("channel_type") == "im"
        if not (direct or _is_follow_up(event, context, responder)) or not responder.claim(channel, ts):
            return
        question = question_text(text, context.bot_user_id)
        # a DM is answered in the DM (in its thread if it was in one); a follow-up in its thread
        responder.answer_in_channel(client, question, event["user"], channel, ts, thread_ts=event.get("thread_ts"))


def skip_duplicates(responder: Responder) -> Callable[..., BoltResponse | None]:
    """Middleware: acknowledge a repeated delivery (same event_id, or a retry already answered) and stop."""

    def middleware(
        body: dict[str, Any], request: BoltRequest, next: Callable[[], BoltResponse | None]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            retry = _retry_num(request)
            event = body.get("event") or {}
            first = responder.recent.claim(f"event:{event_id}")
            if first and retry >= 1 and event.get("channel") and event.get("ts"):
                first = not _answered(responder, event["channel"], event["ts"])
            if not first:
                log.info("skipping a repeated delivery of event %s (retry %d)", event_id, retry)
                return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        return next()

    return middleware


def _answered(responder: Responder, channel: str, ts: str) -> bool:
    """Whether a retried message was answered; when the store cannot say, answer it (better twice than never)."""
    try:
        return responder.store.answered_message(channel, ts)
    except Exception:
        log.exception("cannot check whether message %s was answered", ts)
        return False


def _retry_num(request: BoltRequest) -> int:
    """X-Slack-Retry-Num as a number; Socket Mode sends "0" on first delivery."""
    values = request.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0


def _from_a_bot(event: dict[str, Any], context: BoltContext) -> bool:
    return (
        bool(event.get("bot_id"))
        or event.get("subtype") == "bot_message"
        or (event.get("user") is not None and event.get("user") == context.bot_user_id)
        or not event.get("user")
    )


def _is_follow_up(event: dict[str, Any], context: BoltContext, responder: Responder) -> bool:
    """A question in a channel thread the bot answered in, addressed to nobody else."""
    channel, thread_ts, text = event["channel"], event.get("thread_ts"), event.get("text", "")
    if not responder.config.answer_thread_followups or not thread_ts or thread_ts == event["ts"]:
        return False
    if not responder.allowed(channel):
        return False
    bot = context.bot_user_id or ""
    if mentions(text, bot):
        return True  # the app_mention event answers it; claim() keeps it to one reply
    if _OTHER_USER.search(text):
        return False
    if "?" not in text and len(text.split()) < _QUESTION_WORDS:
        return False
    if event.get("parent_user_id") == bot:
        return True
    try:
        return responder.store.answered_in_thread(channel, thread_ts)
    except Exception:
        log.exception("cannot check whether the bot answered in thread %s", thread_ts)
        return False
