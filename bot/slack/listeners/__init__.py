"""Bolt listeners, one file per kind of request; each parses, hands off to the Responder, replies."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.external import refuse_outside
from bot.slack.listeners import actions, assistant, commands, events
from bot.slack.responder import Responder


def register(app: App, responder: Responder) -> None:
    """Attach every PolicyBot listener to `app`."""
    app.middleware(refuse_outside(responder.config.answer_external))  # first: nothing from outside goes further
    events.register(app, responder)
    commands.register(app, responder)
    actions.register(app, responder)
    assistant.register(app, responder)  # after events: repeated deliveries are skipped before it
