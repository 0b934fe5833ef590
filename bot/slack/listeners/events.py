"""Events: a mention in a channel, a direct message, a follow-up in a thread the bot answered in.

Bolt acknowledges events before these run (in its worker pool); the answers themselves run in the
responder's own pool (bot/slack/work.py), so bolt's threads stay free to acknowledge.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.mrkdwn import mentions, question_text
from bot.slack.once import skip_repeated_deliveries
from bot.slack.responder import Responder
from bot.state.deadline import within

log = logging.getLogger(__name__)

_ANSWERED_SUBTYPES = (None, "thread_broadcast", "file_share")
_OTHER_USER = re.compile(r"<@[UW][A-Z0-9]+")
_QUESTION_WORDS = 3  # a follow-up this short and without "?" ("thanks!", "ok") is not a question


def register(app: App, responder: Responder) -> None:
    """Answer mentions, DMs and thread follow-ups, each once (bot/slack/once.py)."""
    app.middleware(skip_repeated_deliveries(responder.once, responder.store))

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel = event["channel"]
        if _from_a_bot(event, context) or not responder.allowed(channel):
            return
        if not responder.once.message(channel, event["ts"]):
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
        if not (direct or _is_follow_up(event, context, responder)) or not responder.once.message(channel, ts):
            return
        question = question_text(text, context.bot_user_id)
        # a DM is answered in the DM (in its thread if it was in one); a follow-up in its thread
        responder.answer_in_channel(client, question, event["user"], channel, ts, thread_ts=event.get("thread_ts"))


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
        return True  # the app_mention event answers it; once.message() keeps it to one reply
    if _OTHER_USER.search(text):
        return False
    if "?" not in text and len(text.split()) < _QUESTION_WORDS:
        return False
    if event.get("parent_user_id") == bot:
        return True
    try:  # bounded: bolt's threads, which acknowledge commands and clicks, must not wait on the database
        return within(0.5, lambda: responder.store.answered_in_thread(channel, thread_ts), "a thread check")
    except Exception as exc:
        log.warning("cannot check whether the bot answered in thread %s: %s", thread_ts, exc)
        return False
