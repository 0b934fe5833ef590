"""Start the Slack bot: Socket Mode (SLACK_APP_TOKEN) or HTTP Events API mode (SLACK_SIGNING_SECRET).

The tokens are checked first (bot/slack/tokens.py), then the state database, then the answerer
loads and the bot serves until stopped; HTTP mode's server is bot/slack/http_server.py.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Mapping

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.answering.answerer import Answerer
from bot.config import Settings
from bot.errors import SlackStartError
from bot.slack.digest import digest_claims, digest_poster
from bot.slack.health import HEALTH_PATH, READY_PATH, readiness
from bot.slack.http_server import EVENTS_PATH, make_http_server
from bot.slack.once import Once
from bot.slack.tokens import API_URL, APP_TOKEN, check_bot_token, read_tokens
from bot.slack.watchdog import SocketWatchdog
from bot.state.connect import open_database
from bot.state.feedback import FeedbackStore
from bot.state.pending import PendingWrites
from bot.state.published import published_version
from bot.state.retention import RetentionPurger

log = logging.getLogger(__name__)


def serve(
    settings: Settings,
    http: bool,
    env: Mapping[str, str] | None = None,
    answerer_factory: Callable[[Settings], Answerer] | None = None,
    base_url: str | None = None,
    stop: threading.Event | None = None,
    announce: Callable[[str], None] = log.warning,
) -> None:
    """Check the tokens and the state database, load the answerer, then serve until `stop` is set (or Ctrl-C).

    Tokens and the database are checked before the slow model load, so a wrong token or an
    unreachable database fails in a second. With a shared database (`state.url`), events are
    claimed there, so replicas answer each once, and the index version recorded there is served.
    """
    from bot.slack.app import build_app, make_client

    env = settings.env if env is None else env  # tests pass their own
    tokens = read_tokens(http, env)
    client = make_client(tokens.bot_token, base_url or env.get(API_URL) or None)
    who = check_bot_token(client)
    db = open_database(settings, env)
    pending = PendingWrites(settings.state.pending_file) if db.dialect == "postgresql" else None
    store = FeedbackStore(db, pending)
    if answerer_factory is None:
        from bot.wiring import build_answerer

        answerer_factory = build_answerer
    answerer = answerer_factory(settings)
    once = Once.kept_in(db)
    app = build_app(settings.slack, answerer, client, store, signing_secret=tokens.signing_secret, once=once)
    stop = stop or threading.Event()
    from bot.wiring import start_reloader

    reloader = start_reloader(
        answerer,
        settings,
        on_switch=digest_poster(client, settings.slack.changes_channel, digest_claims(db)),
        version_source=(lambda: published_version(db)) if db.shared else None,
    )
    retention = RetentionPurger(store, settings.state.retention_days).start() if settings.state.retention_days else None
    try:
        if http:
            _serve_http(app, tokens.signing_secret, settings, stop, who, announce, once, readiness(answerer, db))
        else:
            _serve_socket_mode(app, tokens.app_token, stop, who, announce)
    finally:
        if reloader is not None:
            reloader.stop()
        if retention is not None:
            retention.stop()
        db.close()


def _serve_socket_mode(
    app: App, app_token: str, stop: threading.Event, who: str, announce: Callable[[str], None]
) -> None:
    handler = SocketModeHandler(app, app_token=app_token)
    try:
        try:
            handler.connect()
        except SlackApiError as exc:
            raise SlackStartError(
                f"Slack rejected {APP_TOKEN} ({exc.response.get('error')}): it must be an "
                "app-level token with the connections:write scope"
            ) from None
        watchdog = SocketWatchdog(handler.client).start()  # reconnects a connection that went quiet
        announce(f"PolicyBot is online as {who} (Socket Mode). Ctrl-C stops it.")
        try:
            while not stop.wait(1.0):
                pass
        finally:
            watchdog.stop()
    finally:
        handler.client.auto_reconnect_enabled = False
        handler.close()


def _serve_http(
    app: App,
    signing_secret: str,
    settings: Settings,
    stop: threading.Event,
    who: str,
    announce: Callable[[str], None],
    once: Once,
    ready: Callable[[], list[str]],
) -> None:
    host, port = settings.slack.http_host, settings.slack.http_port
    try:
        server = make_http_server(app, host, port, signing_secret, once, ready)
    except OSError as exc:  # a port taken or privileged is the port's fault; anything else, the host's
        key = "slack.http_port" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else "slack.http_host"
        raise SlackStartError(f"cannot listen on {host}:{port} ({exc.strerror}): change {key}") from None
    thread = threading.Thread(target=server.serve_forever, args=(0.2,), name="policybot-http", daemon=True)
    thread.start()
    announce(
        f"PolicyBot is online as {who}, listening on http://{host}:{server.server_port}{EVENTS_PATH} "
        f"(probes: {HEALTH_PATH}, {READY_PATH}). Ctrl-C stops it."
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
