"""The HTTP server of `serve --http`: a request reaches bolt only if it is small, signed, fresh and new.

Bolt's own adapter reads whatever Content-Length says into memory and answers a body that is not
JSON with a 500 and a stack trace. This guard, in front of it:

- refuses a body over `max_body` bytes with 413 before reading it (waitress does too), a bad length or a
  body not UTF-8 with 400; a body shorter than its length never reaches it: waitress closes the
  connection when the client stops sending (or after `request_timeout`);
- refuses a bad, missing or malformed signature or timestamp, or a timestamp over 5 minutes off, with 401;
- acknowledges a replay (the same signed request again) with 200 and does nothing with it (bot/slack/once.py);
- answers a signed body that bolt cannot parse with 400, logged in one line.

Nothing a client sends gets a 500 or a traceback: an unauthenticated request is never logged above debug.

`make_http_server` puts the guard, behind /healthz and /readyz, in waitress (`WaitressServer`).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.slack.health import HealthRoutes, StartResponse, WSGIApp
from bot.slack.once import Once

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KB; a modal submission at most some tens of KB
REQUEST_TIMEOUT = 10  # seconds a client may take to send its request (or stay idle) before it is disconnected
THREADS = 16  # requests handled at once: each only checks, acknowledges and hands over (bot/slack/work.py)
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; int() alone takes "1_0" and "+1", and raises on 5,000 digits
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # hex HMAC-SHA256; a non-ASCII one would make compare_digest raise


class GuardedSlackHandler:
    """A WSGI app: the checks above, then bolt's `SlackRequestHandler`."""

    def __init__(
        self,
        app: App,
        signing_secret: str,
        path: str = EVENTS_PATH,
        max_body: int = MAX_BODY_BYTES,
        once: Once | None = None,
    ) -> None:
        if not signing_secret:
            raise ValueError("HTTP mode needs the signing secret to check requests")
        self.bolt = SlackRequestHandler(app, path)
        self.path = path
        self.max_body = max_body
        self.verifier = SignatureVerifier(signing_secret)
        self.once = once or Once()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != self.path:
            return self.bolt(environ, start_response)  # 404
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return _reply(start_response, 411 if not environ.get("CONTENT_LENGTH") else 400, "Content-Length needed")
        if length < 0:
            return _reply(start_response, 400, "Bad Content-Length")
        if length > self.max_body:
            log.info("refused a %d-byte request (limit %d)", length, self.max_body)
            return _reply(start_response, 413, "Request body too large")  # HTTP/1.0: the connection then closes
        try:
            body = environ["wsgi.input"].read(length)
        except OSError:  # the client stalled past the request timeout, or went away
            body = b""
        if len(body) != length:
            return _reply(start_response, 400, "Body shorter than its Content-Length")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _reply(start_response, 400, "Body is not UTF-8")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        well_formed = TIMESTAMP.fullmatch(timestamp) and SIGNATURE.fullmatch(signature)
        if not (well_formed and self.verifier.is_valid(text, timestamp, signature)):
            return _reply(start_response, 401, "Invalid request")
        if not self.once.signature(signature):  # only verified signatures are remembered
            log.info("ignored a replayed request (same signature)")
            return _reply(start_response, 200, "", no_retry=True)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return self.bolt(environ, start_response)
        except Exception as exc:  # bolt parses the body before dispatching: not JSON, or not an object
            log.warning("a signed Slack request could not be parsed (%s); answered 400", type(exc).__name__)
            return _reply(start_response, 400, "Bad Request")


class WaitressServer:
    """`serve --http`'s server: waitress, a production WSGI server (pure Python, threads, one process).

    waitress reads each request (headers and body) asynchronously before a thread runs the app, so a
    slow or stalled client holds no thread; it answers a body over `max_body` with 413 itself and closes
    a connection idle for `request_timeout` seconds. bench/slack_load.py measured it against gunicorn
    and the stdlib's wsgiref (README, "Slack HTTP mode").
    """

    def __init__(self, app: WSGIApp, host: str, port: int, threads: int = THREADS, max_body: int = MAX_BODY_BYTES):
        from waitress.server import create_server

        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            channel_timeout=REQUEST_TIMEOUT,
            cleanup_interval=1,  # idle connections are looked for every second (30 by default)
            max_request_body_size=max_body,
            connection_limit=1000,
            backlog=1024,
            ident="policybot",
            expose_tracebacks=False,
            clear_untrusted_proxy_headers=True,
        )
        self._stopped = threading.Event()
        self._stopping = threading.Event()

    @property
    def server_port(self) -> int:
        return int(self._server.effective_port)

    @property
    def request_timeout(self) -> float:
        """Seconds a client may take to send its request (and may stay idle) before it is disconnected."""
        return float(self._server.adj.channel_timeout)

    @request_timeout.setter
    def request_timeout(self, seconds: float) -> None:
        self._server.adj.channel_timeout = seconds

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until `shutdown()` (called from another thread)."""
        self._server.adj.asyncore_loop_timeout = poll_interval
        try:
            self._server.run()
        except OSError:  # select() on a socket `shutdown` closed under it
            if not self._stopping.is_set():
                raise
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop accepting, close every connection, end `serve_forever` and the worker threads."""
        self._stopping.set()
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        for channel in list(self._server._map.values()):  # the listening socket, the trigger, open connections
            with suppress(Exception):
                channel.close()
        self._stopped.wait(5)

    def server_close(self) -> None:
        """Release the listening socket (done by `shutdown`; kept for the socketserver interface)."""


def make_http_server(
    app: App,
    host: str,
    port: int,
    signing_secret: str | None = None,
    once: Once | None = None,
    ready: Callable[[], list[str]] | None = None,
) -> WaitressServer:
    """An HTTP server for Slack's Events API, commands and interactivity, all at /slack/events, with
    /healthz and /readyz (bot/slack/health.py; `ready` lists what is not ready, nothing when all is).

    Requests pass `GuardedSlackHandler` first (size limit, signature, replay); `signing_secret`
    defaults to the one the app was built with; `once` remembers replayed signatures (in the state
    database with `Once.kept_in`, so across restarts and replicas).
    """
    secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", "")
    guarded = GuardedSlackHandler(app, secret, EVENTS_PATH, once=once)
    return WaitressServer(HealthRoutes(guarded, ready or (lambda: [])), host, port)


def _reply(start_response: StartResponse, status: int, text: str, no_retry: bool = False) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 411: "Length Required", 413: "Content Too Large"}
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text.encode())))]
    if no_retry:
        headers.append(("X-Slack-No-Retry", "1"))
    start_response(f"{status} {reasons[status]}", headers)
    return [text.encode()]
