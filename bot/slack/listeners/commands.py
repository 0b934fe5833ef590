"""The `/policy <question>` slash command: an answer only the asker sees, with a button to share it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.blocks import notice_blocks
from bot.slack.delivery import respond_checked
from bot.slack.external import EXTERNAL_OFF
from bot.slack.mrkdwn import question_text
from bot.slack.responder import Responder
from bot.slack.work import BUSY

log = logging.getLogger(__name__)

COMMAND = "/policy"
NOT_HERE = "PolicyBot does not answer in this channel. Ask me in a direct message instead."


def register(app: App, responder: Responder) -> None:
    """Answer `/policy` ephemerally; the reply carries "Share in channel" and feedback buttons."""

    @app.command(COMMAND)
    def on_policy(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext, client: WebClient) -> None:
        ack()  # at once: the answer is worked on in responder.work, never on bolt's threads
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        if not responder.allowed(channel):
            responder.work.reply(lambda: _respond(respond, NOT_HERE, notice_blocks(NOT_HERE)))
            return
        question = question_text(command.get("text", ""), context.bot_user_id)

        def answer() -> None:
            if responder.outside(client, channel):
                _respond(respond, EXTERNAL_OFF, notice_blocks(EXTERNAL_OFF))
                return
            reply = responder.reply(
                question, user, channel, thread_ts=None, message_ts=None, asked_by=user, shareable=True
            )
            _respond(respond, reply.text, reply.blocks)

        responder.work.answer(answer, busy=lambda: _respond(respond, BUSY, notice_blocks(BUSY)))


def _respond(respond: Respond, text: str, blocks: list[dict[str, Any]]) -> None:
    respond_checked(respond, f"the {COMMAND} reply", response_type="ephemeral", text=text, blocks=blocks)
