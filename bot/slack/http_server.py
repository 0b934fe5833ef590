"""The HTTP server of `serve --http`: a request reaches bolt only if it is small, signed, fresh and new.

Bolt's own adapter reads whatever Content-Length says into memory and answers a body that is not
JSON with a 500 and a stack trace. This guard, in front of it:

- refuses a body over `max_body` bytes with 413 before reading it, and a bad length, a body shorter
  than its length (or not sent within the server's `request_timeout`) or one not UTF-8 with 400;
- refuses a bad, missing or malformed signature or timestamp, or a timestamp over 5 minutes off, with 401;
- acknowledges a replay (the same signed request again) with 200 and does nothing with it (bot/slack/once.py);
- answers a signed body that bolt cannot parse with 400, logged in one line.

Nothing a client sends gets a 500 or a traceback: an unauthenticated request is never logged above debug.

`make_http_server` puts the guard in a threaded stdlib WSGI server.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.slack.once import Once

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KB; a modal submission at most some tens of KB
REQUEST_TIMEOUT = 10  # seconds a client may take to send its request: a stalled one cannot hold a thread for ever
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; int() alone takes "1_0" and "+1", and raises on 5,000 digits
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # hex HMAC-SHA256; a non-ASCII one would make compare_digest raise

StartResponse = Callable[..., Any]


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


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A stdlib WSGI server handling each request in its own thread (Slack sends events concurrently)."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default of 5 resets connections when Slack sends a burst
    request_timeout: float = REQUEST_TIMEOUT  # seconds a client gets to send its request line, headers and body


class _QuietHandler(WSGIRequestHandler):
    server: ThreadingWSGIServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.request_timeout)  # for the request line, headers and body

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_http_server(
    app: App, host: str, port: int, signing_secret: str | None = None, once: Once | None = None
) -> ThreadingWSGIServer:
    """An HTTP server for Slack's Events API, commands and interactivity, all at /slack/events.

    Requests pass `GuardedSlackHandler` first (size limit, signature, replay); `signing_secret`
    defaults to the one the app was built with; `once` remembers replayed signatures (in the state
    database with `Once.kept_in`, so across restarts and replicas).
    """
    secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", "")
    guarded = GuardedSlackHandler(app, secret, EVENTS_PATH, once=once)
    return make_server(host, port, guarded, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)


def _reply(start_response: StartResponse, status: int, text: str, no_retry: bool = False) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 411: "Length Required", 413: "Content Too Large"}
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text.encode())))]
    if no_retry:
        headers.append(("X-Slack-No-Retry", "1"))
    start_response(f"{status} {reasons[status]}", headers)
    return [text.encode()]
