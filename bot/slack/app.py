"""Build the PolicyBot Slack app from settings, an answerer and a Web API client. Only wiring lives here."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.delivery import retry_handlers
from bot.slack.listeners import register
from bot.slack.responder import Responder
from bot.slack.work import Work
from bot.state.feedback import FeedbackStore

log = logging.getLogger(__name__)

WORKERS = 8  # bolt's listener threads: they only acknowledge and hand over to Work (bot/slack/work.py)


def make_client(token: str, base_url: str | None = None) -> WebClient:
    """A Web API client that waits out a 429's Retry-After, retries a 5xx with backoff and a dropped connection once."""
    return add_retries(WebClient(token=token, base_url=base_url or WebClient.BASE_URL, retry_handlers=[]))


def add_retries(client: WebClient) -> WebClient:
    """Give `client` the retries of bot/slack/delivery.py that it lacks (by handler type), instead of raising."""
    have = {type(h) for h in client.retry_handlers}
    client.retry_handlers.extend(h for h in retry_handlers() if type(h) not in have)
    return client


def build_app(
    config: SlackConfig,
    answerer: Answerer,
    client: WebClient,
    store: FeedbackStore,
    signing_secret: str = "",
    **responder_options: Any,
) -> App:
    """A bolt App answering with `answerer`; calls auth.test through `client`, so build it at start, not import.

    `signing_secret` is needed in HTTP mode (Socket Mode requests are not signed).
    """
    add_retries(client)
    responder_options.setdefault("work", Work(config.answer_workers, config.answer_queue))
    responder = Responder(answerer, store, config, **responder_options)
    app = App(
        client=client,
        signing_secret=signing_secret,
        listener_executor=ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="policybot-slack"),
    )
    register(app, responder)

    @app.error
    def on_error(error: Exception) -> None:
        log.error("unhandled error in a Slack listener", exc_info=error)

    return app
