"""Start the Slack bot: Socket Mode (SLACK_APP_TOKEN) or HTTP Events API mode (SLACK_SIGNING_SECRET).

Tokens come from environment variables only and are never logged. A missing or rejected token
stops the start with one line naming the variable to set.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.error
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering.answerer import Answerer
from bot.config import Settings
from bot.errors import SlackStartError
from bot.slack.http_server import EVENTS_PATH, REPLAY_WINDOW, GuardedSlackHandler
from bot.slack.mrkdwn import escape
from bot.state.claims import Claims, SharedKeys
from bot.state.connect import open_database
from bot.state.feedback import FeedbackStore
from bot.state.pending import PendingWrites
from bot.state.published import published_version

log = logging.getLogger(__name__)

BOT_TOKEN = "SLACK_BOT_TOKEN"
APP_TOKEN = "SLACK_APP_TOKEN"
SIGNING_SECRET = "SLACK_SIGNING_SECRET"
API_URL = "SLACK_API_URL"  # another Web API base URL (a proxy, GovSlack, a test stand-in); default Slack's own
EVENT_CLAIM_SECONDS = 3600  # an event id is claimed this long: Slack's last retry comes within ~5 minutes


@dataclass(frozen=True)
class Tokens:
    """The secrets the bot runs with; `repr` hides them so they never reach a log."""

    bot_token: str = field(repr=False)
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)


def slack_configured(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment holds enough to start the bot (bot token plus app token or signing secret)."""
    return bool(env.get(BOT_TOKEN) and (env.get(APP_TOKEN) or env.get(SIGNING_SECRET)))


def read_tokens(http: bool, env: Mapping[str, str] = os.environ) -> Tokens:
    """The tokens for the chosen mode, or SlackStartError naming the variable to set."""
    bot_token = _require(
        env,
        BOT_TOKEN,
        "xoxb-",
        "export the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions page",
    )
    if http:
        secret = _require(
            env,
            SIGNING_SECRET,
            "",
            "HTTP mode needs the Signing Secret from your Slack app's Basic Information page "
            "(or drop --http and use Socket Mode)",
        )
        return Tokens(bot_token, signing_secret=secret)
    app_token = _require(
        env,
        APP_TOKEN,
        "xapp-",
        "Socket Mode needs an app-level token (xapp-...) with connections:write "
        "(or run `policybot serve --http` with SLACK_SIGNING_SECRET)",
    )
    return Tokens(bot_token, app_token=app_token)


def _require(env: Mapping[str, str], name: str, prefix: str, hint: str) -> str:
    """The variable's value, or SlackStartError saying it is missing or of the wrong kind."""
    value = env.get(name, "").strip()
    if not value:
        raise SlackStartError(f"{name} is not set: {hint}")
    if not value.startswith(prefix):
        raise SlackStartError(f"{name} must be a token starting with {prefix}")
    return value


def check_bot_token(client: WebClient) -> str:
    """Call auth.test; return "@bot in workspace" or raise SlackStartError naming SLACK_BOT_TOKEN."""
    sdk_log = logging.getLogger("slack_sdk.web.base_client")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # its own error line would repeat ours
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        raise SlackStartError(
            f"Slack rejected {BOT_TOKEN} ({exc.response.get('error')}): check the token, "
            "and reinstall the app to your workspace if it was revoked"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SlackStartError(f"cannot reach Slack at {client.base_url} ({reason})") from None
    finally:
        sdk_log.setLevel(level)
    return f"@{auth.get('user')} in {auth.get('team')}"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A stdlib WSGI server handling each request in its own thread (Slack sends events concurrently)."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default of 5 resets connections when Slack sends a burst


class _QuietHandler(WSGIRequestHandler):
    timeout = 10  # seconds a client may take to send its request: a stalled one cannot hold a thread for ever

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_http_server(
    app: App, host: str, port: int, signing_secret: str | None = None, seen: Claims | None = None
) -> ThreadingWSGIServer:
    """An HTTP server for Slack's Events API, commands and interactivity, all at /slack/events.

    Requests pass `GuardedSlackHandler` first (size limit, signature, replay); `signing_secret`
    defaults to the one the app was built with; `seen` shares replayed signatures between replicas.
    """
    secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", "")
    guarded = GuardedSlackHandler(app, secret, EVENTS_PATH, seen=seen)
    return make_server(host, port, guarded, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)


def serve(
    settings: Settings,
    http: bool,
    env: Mapping[str, str] = os.environ,
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
    shared: dict[str, Any] = {"recent": SharedKeys(db, "event", EVENT_CLAIM_SECONDS)} if db.shared else {}
    app = build_app(settings.slack, answerer, client, store, signing_secret=tokens.signing_secret, **shared)
    stop = stop or threading.Event()
    from bot.wiring import start_reloader

    reloader = start_reloader(
        answerer,
        settings,
        on_switch=_digest_poster(client, settings.slack.changes_channel),
        version_source=(lambda: published_version(db)) if db.shared else None,
    )
    seen = SharedKeys(db, "signature", REPLAY_WINDOW) if db.shared else None
    try:
        if http:
            _serve_http(app, tokens.signing_secret, settings, stop, who, announce, seen)
        else:
            _serve_socket_mode(app, tokens.app_token, stop, who, announce)
    finally:
        if reloader is not None:
            reloader.stop()
        db.close()


def _digest_poster(client: WebClient, channel: str) -> Callable[[str, str, str], None] | None:
    """Post each newly published index's change digest to `slack.changes_channel`, if set."""
    if not channel:
        return None

    def post(old: str, new: str, digest: str) -> None:
        text = f"PolicyBot's knowledge base was updated.\n{digest}"
        client.chat_postMessage(channel=channel, text=escape(text), unfurl_links=False)

    return post


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
        announce(f"PolicyBot is online as {who} (Socket Mode). Ctrl-C stops it.")
        while not stop.wait(1.0):
            pass
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
    seen: Claims | None = None,
) -> None:
    host, port = settings.slack.http_host, settings.slack.http_port
    try:
        server = make_http_server(app, host, port, signing_secret, seen)
    except OSError as exc:
        raise SlackStartError(f"cannot listen on {host}:{port} ({exc.strerror}): change slack.http_port") from None
    thread = threading.Thread(target=server.serve_forever, args=(0.2,), name="policybot-http", daemon=True)
    thread.start()
    announce(
        f"PolicyBot is online as {who}, listening on http://{host}:{server.server_port}{EVENTS_PATH}. Ctrl-C stops it."
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
