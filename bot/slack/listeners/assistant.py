"""Slack's AI-app surface (bolt's `Assistant`): the assistant thread and the App Home tab.

- a new assistant thread gets a greeting and suggested prompts drawn from the knowledge base's sections;
- a question in it shows "Searching the policy documents…" (assistant.threads.setStatus) while it is
  answered, in the responder's answer pool, with the same citations and feedback buttons as elsewhere;
  the thread is a conversation, so a follow-up is read in the context of its earlier questions, as in any thread;
- the App Home tab shows the documents, the index version and its date, and how to ask.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts
from slack_sdk import WebClient

from bot.slack.delivery import slack_error
from bot.slack.knowledge import home_view, suggested_prompts
from bot.slack.mrkdwn import question_text
from bot.slack.responder import Responder
from bot.state.conversations import conversation_key

log = logging.getLogger(__name__)

GREETING = "Hi! I answer questions from the policy documents, with citations. Try one of these, or ask your own."
PROMPTS_TITLE = "Ask about the policy documents"
SEARCHING = "Searching the policy documents…"


def register(app: App, responder: Responder) -> None:
    """Attach the assistant listeners and the App Home tab to `app`."""
    assistant = Assistant()

    @assistant.thread_started
    def on_thread_started(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        def greet() -> None:
            try:
                say(GREETING)
                set_suggested_prompts(
                    prompts=suggested_prompts(responder.answerer.retriever.index), title=PROMPTS_TITLE
                )
            except Exception as exc:
                log.warning("greeting an assistant thread failed: %s", slack_error(exc))

        responder.work.reply(greet)

    @assistant.user_message
    def on_question(payload: dict[str, Any], set_status: SetStatus, client: WebClient, context: BoltContext) -> None:
        channel, ts, thread_ts = payload["channel"], payload["ts"], payload.get("thread_ts")
        if not payload.get("user") or not responder.once.message(channel, ts):
            return
        question = question_text(payload.get("text", ""), context.bot_user_id)

        def answer() -> None:
            try:
                set_status(SEARCHING)
            except Exception as exc:  # the answer matters more than the status line
                log.info("assistant.threads.setStatus failed: %s", slack_error(exc))
            conversation = conversation_key(channel, thread_ts)  # the thread: follow-ups read in its context
            reply = responder.reply(question, payload["user"], channel, thread_ts, ts, conversation=conversation)
            responder.post(client, channel, thread_ts, reply)

        responder.work.answer(answer, busy=lambda: responder.post_busy(client, channel, thread_ts))

    app.use(assistant)

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return

        def publish() -> None:
            try:
                client.views_publish(user_id=event["user"], view=home_view(responder.answerer.retriever.index))
            except Exception as exc:
                log.warning("publishing the App Home tab failed: %s", slack_error(exc))

        responder.work.reply(publish)
