"""A loopback stand-in for Slack's servers: the Web API over HTTP and Socket Mode over WebSocket.

Example:
    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        [call] = fake.wait_for_call("chat.postMessage")
        assert call.body["text"] == "hi"
"""

from __future__ import annotations

import contextlib
import functools
import html
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.sync.server import Server, ServerConnection, serve

TEAM_ID = "T1"
APP_ID = "A1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
PROXY_ENV_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
FORM = "application/x-www-form-urlencoded"
MAX_TEXT_CHARS = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT_CHARS = 3_000
MAX_FIELD_CHARS = 2_000
MAX_FIELDS = 10
MAX_HEADER_CHARS = 150
MAX_MARKDOWN_BLOCK_CHARS = 12_000
MAX_BLOCKS_TEXT_CHARS = 12_000  # all text in a message's blocks; Slack answers msg_blocks_too_long above ~12-13 K
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT_CHARS = 75
MAX_BUTTON_VALUE_CHARS = 2_000
MAX_BLOCK_ID_CHARS = 255
ACK_SECONDS = 3.0  # Slack gives up on an HTTP request or a Socket Mode ack after 3 s
TRIGGER_SECONDS = 3.0  # a trigger_id opens a modal only within 3 s of the click
RESPONSE_URL_USES = 5  # a response_url takes 5 posts ...
RESPONSE_URL_SECONDS = 30 * 60  # ... within 30 minutes
_CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{1,20}")
_TRIGGER_ID = re.compile(r"([0-9]{13})\.[^\s]+")  # issued-at in milliseconds, as `new_trigger_id()` makes them
_BLOCK_TYPES = frozenset(
    {"section", "context", "actions", "divider", "header", "input", "markdown", "rich_text", "image", "file"}
)
_OK_METHODS = frozenset(
    {
        "reactions.add",
        "reactions.remove",
        "views.open",
        "views.publish",
        "views.update",
        "assistant.threads.setStatus",
        "assistant.threads.setSuggestedPrompts",
        "api.test",
    }
)
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_CHANNEL_METHODS = _MESSAGE_METHODS | {
    "reactions.add",
    "reactions.remove",
    "assistant.threads.setStatus",
    "assistant.threads.setSuggestedPrompts",
}
CHANNEL_STATES = ("archived", "not_in_channel", "missing")
_KNOWN_METHODS = _OK_METHODS | _MESSAGE_METHODS | {"auth.test", "apps.connections.open", "conversations.info"}
_JSON_FORM_FIELDS = ("blocks", "attachments", "view", "metadata")


class Call(NamedTuple):
    """One request the fake received: Web API method (or `response/<name>`), lower-cased headers, parsed body."""

    method: str
    headers: dict[str, str]
    body: dict[str, Any]


class Reply(NamedTuple):
    """A queued one-off reply for `FakeSlack.script`."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any] | str


class FakeSlack:
    """Slack's Web API, response_url endpoint and Socket Mode server, on 127.0.0.1 ports picked by the OS."""

    def __init__(self, bot_token: str = "xoxb-test", app_token: str = "xapp-test") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.connection_count = 0
        self._cond = threading.Condition()
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._connections: list[ServerConnection] = []
        self._ts_counter = itertools.count(1)
        self.channels: dict[str, str] = {}  # channel id -> one of CHANNEL_STATES; others exist, with the bot in them
        self.external: set[str] = set()  # channel ids shared with other organisations (Slack Connect)
        self._limited_until: dict[str, float] = {}  # method -> time.monotonic() its rate-limit window ends
        self._response_uses: dict[str, list[float]] = {}  # response_url path -> times it was posted to
        self._answers: dict[int, dict[str, Any]] = {}  # id of a Web API call -> the JSON the fake answered
        self._refused: set[int] = set()  # ids of calls answered with an HTTP error (429, 5xx...)
        self._silent: set[int] = set()  # ids of connections that went silent (no envelopes, no pongs)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, fake=self))
        self._http.daemon_threads = True
        self._ws: Server = serve(
            self._serve_socket, "127.0.0.1", 0, compression=None, ping_interval=None, close_timeout=1
        )
        self._threads = [
            threading.Thread(target=self._http.serve_forever, args=(0.05,), name="fakeslack-http", daemon=True),
            threading.Thread(target=self._ws.serve_forever, name="fakeslack-ws", daemon=True),
        ]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving HTTP and WebSocket in background threads."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop the WebSocket server (closing its connections), then the HTTP server."""
        self._ws.shutdown()
        self._http.shutdown()  # must not run on the serve_forever thread; we are the caller's thread
        self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def http_port(self) -> int:
        return self._http.server_address[1]

    @property
    def ws_port(self) -> int:
        return int(self._ws.socket.getsockname()[1])

    @property
    def api_url(self) -> str:
        """Base URL for `WebClient(base_url=...)`, ending in `/api/`."""
        return f"http://127.0.0.1:{self.http_port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url pointing at the fake; posts to it are recorded as method `response/<name>`."""
        return f"http://127.0.0.1:{self.http_port}/response/{name}"

    # -- Web API -----------------------------------------------------------------------------

    def script(
        self,
        method: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | str | None = None,
    ) -> None:
        """Queue a one-off reply for `method`, e.g. `script("chat.postMessage", 429, {"Retry-After": "1"})`.

        A missing body becomes `{"ok": false, "error": "ratelimited"}` for 429, else `{"ok": status < 400}`.
        A 429 carries Retry-After, a whole number of seconds of at least 1 as Slack's does (default "1"),
        and the method stays rate-limited that long: a call that does not wait gets another 429.
        """
        headers = dict(headers or {})
        if status == 429:
            retry_after = headers.setdefault("Retry-After", "1")
            if not retry_after.isdigit() or int(retry_after) < 1:
                raise ValueError(f"Slack's Retry-After is a whole number of seconds, at least 1; got {retry_after!r}")
        if body is None:
            body = {"ok": False, "error": "ratelimited"} if status == 429 else {"ok": status < 400}
        with self._cond:
            self._scripts[method].append(Reply(status, headers, body))

    def rate_limit(self, method: str, seconds: int) -> None:
        """Answer `method` with 429 and the remaining Retry-After for the next `seconds` seconds."""
        with self._cond:
            self._limited_until[method] = time.monotonic() + seconds

    def set_channel(self, channel: str, state: str) -> None:
        """Make `channel` archived, one the bot is not in, or missing (one of CHANNEL_STATES)."""
        if state not in CHANNEL_STATES:
            raise ValueError(f"state must be one of {CHANNEL_STATES}")
        with self._cond:
            self.channels[channel] = state

    def share_externally(self, channel: str) -> None:
        """Make `channel` a Slack Connect channel: conversations.info says `is_ext_shared`."""
        with self._cond:
            self.external.add(channel)

    def refused(self, call: Call) -> bool:
        """Whether `call` was answered with an HTTP error (a 429, a scripted 5xx) rather than handled."""
        with self._cond:
            return id(call) in self._refused

    def calls_to(self, method: str) -> list[Call]:
        """Calls recorded so far for `method`."""
        with self._cond:
            return self._calls_unlocked(method)

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 3.0) -> list[Call]:
        """Wait until `method` has been called `count` times; return all its calls or raise AssertionError."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._calls_unlocked(method)) >= count, timeout):
                seen = [call.method for call in self.calls]
                raise AssertionError(f"expected {count} call(s) to {method} within {timeout}s; calls: {seen}")
            return self._calls_unlocked(method)

    def _calls_unlocked(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def _handle_http(self, path: str, call: Call) -> Reply:
        now = time.monotonic()
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
            limited = self._limited_until.get(call.method, 0.0) - now
            scripted = self._scripts[call.method].popleft() if self._scripts.get(call.method) else None
            if limited <= 0 and scripted is not None and scripted.status == 429:
                self._limited_until[call.method] = now + int(scripted.headers["Retry-After"])
        if limited > 0:  # called again before Retry-After had passed
            retry_after = str(max(1, int(limited + 0.999)))
            scripted = Reply(429, {"Retry-After": retry_after}, {"ok": False, "error": "ratelimited"})
        if scripted is not None:
            if scripted.status >= 400:
                with self._cond:
                    self._refused.add(id(call))
            return scripted
        if path.startswith("/response/"):
            return self._response_reply(path, call, now)
        if not path.startswith("/api/"):
            return Reply(404, {"Content-Type": "text/plain"}, "not found")
        reply = self._api_reply(call)
        with self._cond:
            self._answers[id(call)] = reply
        return Reply(200, {}, reply)

    def posted_ts(self, call: Call) -> str:
        """The `ts` the fake gave the message `call` posted."""
        with self._cond:
            return str(self._answers[id(call)]["ts"])

    def _response_reply(self, path: str, call: Call, now: float) -> Reply:
        """A response_url: 5 posts within 30 minutes of the first, each a valid message or a deletion."""
        with self._cond:
            uses = self._response_uses.setdefault(path, [])
            if uses and now - uses[0] > RESPONSE_URL_SECONDS:
                return Reply(404, {}, {"ok": False, "error": "expired_url"})
            if len(uses) >= RESPONSE_URL_USES:
                return Reply(404, {}, {"ok": False, "error": "used_url"})
            uses.append(now)
        error = None if call.body.get("delete_original") else _payload_error("chat.postMessage", call.body)
        if (
            error is None
            and not call.body.get("delete_original")
            and not (call.body.get("text") or call.body.get("blocks"))
        ):
            error = "no_text"
        if error is not None:
            return Reply(400, {}, {"ok": False, "error": error})
        return Reply(200, {}, {"ok": True})

    def _api_reply(self, call: Call) -> dict[str, Any]:
        method, body = call.method, call.body
        if method not in _KNOWN_METHODS:
            return {"ok": False, "error": "unknown_method"}
        auth = call.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else str(body.get("token", ""))
        if method == "apps.connections.open" and not auth:  # Slack takes the app token from the header only
            token = ""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token not in (self.bot_token, self.app_token):
            return {"ok": False, "error": "invalid_auth"}
        if (token == self.app_token) != (method == "apps.connections.open"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://policybot-test.slack.com/",
                "team": "PolicyBot Test",
                "user": "policybot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.ws_port}/link/?ticket={uuid.uuid4()}"}
        if method == "conversations.info":
            return self._conversation_info(str(body.get("channel") or ""))
        error = self._channel_error(method, body) or _payload_error(method, body)
        if error is None and method == "views.open":
            error = _trigger_error(str(body.get("trigger_id") or ""))
        if error is not None:
            return {"ok": False, "error": error}
        if method in _MESSAGE_METHODS and not any(body.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._new_ts()}
        if method in _MESSAGE_METHODS:
            ts = str(body.get("ts") or self._new_ts())
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": ts,
                "text": body.get("text", ""),
                "blocks": body.get("blocks", []),
            }
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if method.startswith("views.") and isinstance(body.get("view"), dict):
            return {"ok": True, "view": {"id": f"V{next(self._ts_counter):08d}", **body["view"]}}
        return {"ok": True}

    def _conversation_info(self, channel: str) -> dict[str, Any]:
        """conversations.info as Slack answers it, with the fields that say who shares the channel."""
        with self._cond:
            state, external = self.channels.get(channel), channel in self.external
        if not _CHANNEL_ID.fullmatch(channel) or state == "missing":
            return {"ok": False, "error": "channel_not_found"}
        info = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"),
            "is_im": channel.startswith("D"),
            "is_archived": state == "archived",
            "is_member": state != "not_in_channel",
            "is_shared": external,
            "is_ext_shared": external,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": TEAM_ID,
        }
        return {"ok": True, "channel": info}

    def _channel_error(self, method: str, body: dict[str, Any]) -> str | None:
        if method not in _CHANNEL_METHODS:
            return None
        channel = str(body.get("channel") or body.get("channel_id") or "")
        if not _CHANNEL_ID.fullmatch(channel):
            return "channel_not_found"
        with self._cond:
            state = self.channels.get(channel)
        if state == "missing":
            return "channel_not_found"
        if state == "archived" and method != "reactions.remove":
            return "is_archived"
        if state == "not_in_channel" and not channel.startswith("D"):
            return "not_in_channel"
        return None

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    # -- Socket Mode ------------------------------------------------------------------------

    def _serve_socket(self, conn: ServerConnection) -> None:
        with self._cond:
            self._connections.append(conn)
            self.connection_count += 1
            count = len(self._connections)
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": count,
            "connection_info": {"app_id": APP_ID},
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600},
        }
        try:
            conn.send(json.dumps(hello))
            for raw in conn:
                frame = json.loads(raw)
                if isinstance(frame, dict) and "envelope_id" in frame:
                    with self._cond:
                        self.acks[frame["envelope_id"]] = frame
                        self._cond.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._cond, contextlib.suppress(ValueError):
                self._connections.remove(conn)

    def wait_for_connections(self, count: int = 1, timeout: float = 3.0) -> None:
        """Wait until `count` WebSocket connections have been opened in total."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.connection_count >= count, timeout):
                raise AssertionError(f"expected {count} Socket Mode connection(s), got {self.connection_count}")

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        timeout: float = 3.0,
    ) -> str:
        """Deliver one envelope to the newest open connection, as Slack delivers each to one; return its id.

        `events_api` envelopes carry `retry_attempt: 0, retry_reason: ""` unless given, like Slack's.
        """
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api" or retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._connections, deadline - time.monotonic()):
                    raise AssertionError(f"no Socket Mode client connected within {timeout}s")
                conn = self._connections[-1]
            try:
                if id(conn) not in self._silent:  # a silent connection swallows what Slack sends
                    conn.send(json.dumps(envelope))
                return envelope_id
            except ConnectionClosed:  # closing under us (e.g. mid-reconnect): forget it, try the next one
                with self._cond, contextlib.suppress(ValueError):
                    self._connections.remove(conn)

    def wait_for_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """Return the client's ack frame for `envelope_id`; AssertionError if none within `timeout` (Slack's 3 s)."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acked within {timeout}s")
            return self.acks[envelope_id]

    def go_silent(self) -> None:
        """Keep the open connections up but send nothing on them: no envelopes, no pongs to the client's pings.

        This is the "connected but no events" failure: only a client that watches for pongs and envelopes
        notices it; new connections are served normally.
        """
        with self._cond:
            conns = list(self._connections)
            self._silent |= {id(conn) for conn in conns}
        for conn in conns:
            send_frame = conn.protocol.send_frame

            def drop_pongs(frame: Any, send_frame: Any = send_frame) -> None:
                if frame.opcode is not Opcode.PONG:
                    send_frame(frame)

            conn.protocol.send_frame = drop_pongs  # type: ignore[method-assign]

    def disconnect_clients(self, reason: str | None = None) -> None:
        """Close open WebSocket connections; with `reason` (e.g. "refresh_requested") send Slack's disconnect first.

        Given a reason, slack_sdk's builtin client reconnects at once; after a bare close it notices only at its
        next `ping_interval` check (bolt's default: 10 s), so pass a small `ping_interval` when testing drops.
        """
        with self._cond:
            conns, self._connections = self._connections, []
        for conn in conns:
            with contextlib.suppress(ConnectionClosed):
                if reason is not None:
                    conn.send(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}}))
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    """Parses one HTTP request and hands it to the FakeSlack that owns the server."""

    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, fake: FakeSlack, **kwargs: Any) -> None:
        self.fake = fake
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {key.lower(): value for key, value in self.headers.items()}
        body = _parse_body(raw, headers.get("content-type", ""), url.query)
        method = url.path.removeprefix("/api/") if url.path.startswith("/api/") else url.path.lstrip("/")
        reply = self.fake._handle_http(url.path, Call(method, headers, body))
        data = reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        content_type = "text/plain" if isinstance(reply.body, str) else "application/json; charset=utf-8"
        reply_headers = {"Content-Type": content_type, **reply.headers}
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _parse_body(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    """Merge query-string fields with a JSON or form body; JSON-valued form fields (blocks, view) are decoded."""
    body: dict[str, Any] = dict(parse_qsl(query))
    if raw and content_type.startswith("application/json"):
        body.update(json.loads(raw))
    elif raw:
        body.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for field in _JSON_FORM_FIELDS:
            if isinstance(body.get(field), str) and body[field][:1] in ("[", "{"):
                body[field] = json.loads(body[field])
    return body


def _payload_error(method: str, body: dict[str, Any]) -> str | None:
    """Slack's error for an oversized or malformed message or view, or None when Slack would take it."""
    if len(str(body.get("text") or "")) > MAX_TEXT_CHARS:
        return "msg_too_long"
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else body.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    limit = MAX_VIEW_BLOCKS if method.startswith("views.") else MAX_MESSAGE_BLOCKS
    if len(blocks) > limit or any(_block_error(block) for block in blocks):
        return "invalid_blocks"
    if not method.startswith("views.") and sum(len(t) for t in _texts(blocks)) > MAX_BLOCKS_TEXT_CHARS:
        return "msg_blocks_too_long"
    return None


def _block_error(block: Any) -> bool:
    """Whether Slack refuses this block: an unknown type, or a field over its documented limit."""
    if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
        return True
    if len(str(block.get("block_id", ""))) > MAX_BLOCK_ID_CHARS:
        return True
    kind = block["type"]
    text = block.get("text") if isinstance(block.get("text"), dict) else {}
    if kind == "section":
        fields = block.get("fields") or []
        if not text.get("text") and not fields:
            return True
        return (
            len(str(text.get("text", ""))) > MAX_SECTION_TEXT_CHARS
            or len(fields) > MAX_FIELDS
            or any(len(str(f.get("text", ""))) > MAX_FIELD_CHARS for f in fields)
        )
    if kind == "header":
        return text.get("type") != "plain_text" or not 0 < len(str(text.get("text", ""))) <= MAX_HEADER_CHARS
    if kind == "markdown":
        return not 0 < len(str(block.get("text", ""))) <= MAX_MARKDOWN_BLOCK_CHARS
    if kind == "context":
        return not 0 < len(block.get("elements") or []) <= MAX_CONTEXT_ELEMENTS
    if kind == "actions":
        elements = block.get("elements") or []
        return not 0 < len(elements) <= MAX_ACTION_ELEMENTS or any(_button_error(e) for e in elements)
    return False


def _button_error(element: dict[str, Any]) -> bool:
    if element.get("type") != "button":
        return False
    label = element.get("text") or {}
    return (
        label.get("type") != "plain_text"
        or not 0 < len(str(label.get("text", ""))) <= MAX_BUTTON_TEXT_CHARS
        or len(str(element.get("value", ""))) > MAX_BUTTON_VALUE_CHARS
    )


def _texts(node: Any) -> list[str]:
    """Every `text` string inside blocks, however deeply nested: what Slack counts against the message."""
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if isinstance(node.get("text"), str) else []
    return found + [
        t for key, value in node.items() if key != "text" or not isinstance(value, str) for t in _texts(value)
    ]


def _trigger_error(trigger_id: str) -> str | None:
    """expired_trigger_id 3 s after the click; invalid_trigger_id for one Slack never issued."""
    match = _TRIGGER_ID.fullmatch(trigger_id)
    if match is None:
        return "invalid_trigger_id"
    if time.time() - int(match.group(1)) / 1000 > TRIGGER_SECONDS:
        return "expired_trigger_id"
    return None


def new_trigger_id(name: str = "") -> str:
    """A trigger_id as Slack issues it with a click or a command: valid for 3 s from now."""
    return f"{int(time.time() * 1000)}.1.{name or uuid.uuid4().hex}"


def signed_post(
    url: str,
    raw_body: bytes,
    secret: str,
    content_type: str = "application/json",
    timestamp: int | str | None = None,
    retry_num: int | None = None,
    signature: str | None = None,
    retry_reason: str = "http_timeout",
) -> tuple[int, dict[str, str], bytes]:
    """POST `raw_body` as Slack would, signed with `secret`; return (status, lower-cased headers, body).

    Uses a 3 s timeout (Slack's), bypasses any proxy, and returns 4xx/5xx instead of raising.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = signature or SignatureVerifier(secret).generate_signature(timestamp=ts, body=raw_body) or ""
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
    request = urllib.request.Request(url, data=raw_body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=ACK_SECONDS) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


class Attempt(NamedTuple):
    """One HTTP delivery of an event: its X-Slack-Retry-Num, the status (None: no answer within 3 s), seconds taken."""

    retry_num: int
    status: int | None
    seconds: float


def deliver_event(url: str, raw_body: bytes, secret: str, retries: int = 2) -> list[Attempt]:
    """POST an Events API body as Slack does: an attempt not answered 2xx within 3 s is sent again at once,
    with X-Slack-Retry-Num 1, then 2, and X-Slack-Retry-Reason (`http_timeout`, `http_error`,
    `connection_failed`), unless the reply said X-Slack-No-Retry: 1. Slack waits a minute, then five, between
    retries; this sends them at once. Returns every attempt; the event was acknowledged if the last is 2xx.
    """
    attempts: list[Attempt] = []
    reason = ""
    for retry_num in range(retries + 1):
        started = time.monotonic()
        try:
            status, headers, _ = signed_post(
                url, raw_body, secret, retry_num=retry_num or None, retry_reason=reason or "http_timeout"
            )
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            timed_out = isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError)
            attempts.append(Attempt(retry_num, None, time.monotonic() - started))
            reason = "http_timeout" if timed_out else "connection_failed"
            continue
        attempts.append(Attempt(retry_num, status, time.monotonic() - started))
        if 200 <= status < 300 or headers.get("x-slack-no-retry") == "1":
            break
        reason = "http_error"
    return attempts


# -- payload builders, shaped like Slack's ---------------------------------------------------


def encode_form(fields: dict[str, str]) -> bytes:
    """Form-encode fields, e.g. a slash command, for `signed_post(..., content_type=FORM)`."""
    return urlencode(fields).encode()


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Form-encode an interactive payload the way Slack posts it: `payload=<json>`."""
    return encode_form({"payload": json.dumps(payload)})


def _ts() -> str:
    return f"{time.time():.6f}"


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack attaches to a typed message: mentions become user elements."""
    elements: list[dict[str, Any]] = []
    for part in re.split(r"(<@[UW][A-Z0-9]+>)", text):
        if part.startswith("<@"):
            elements.append({"type": "user", "user_id": part[2:-1]})
        elif part:
            elements.append({"type": "text", "text": html.unescape(part)})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def _message(type: str, text: str, channel: str, user: str, ts: str | None, **extra: Any) -> dict[str, Any]:
    ts = ts or _ts()
    return {
        "type": type,
        "user": user,
        "text": text,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "team": TEAM_ID,
        "blocks": _rich_text(text),
        "channel": channel,
        "event_ts": ts,
        **extra,
    }


def _event_callback(event: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(float(event["event_ts"])),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def app_mention_event(
    text: str,
    channel: str = "C1",
    user: str = "U1",
    ts: str | None = None,
    thread_ts: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An `event_callback` body for an app_mention; `text` should contain `<@UBOT>` as Slack's does."""
    extra = {"thread_ts": thread_ts} if thread_ts else {}
    return _event_callback(_message("app_mention", text, channel, user, ts, **extra), event_id)


def dm_event(
    text: str, channel: str = "D1", user: str = "U1", ts: str | None = None, event_id: str | None = None
) -> dict[str, Any]:
    """An `event_callback` body for a direct message to the bot (message.im)."""
    return _event_callback(_message("message", text, channel, user, ts, channel_type="im"), event_id)


def assistant_thread_started_event(
    thread_ts: str, channel: str = "D1", user: str = "U1", event_id: str | None = None
) -> dict[str, Any]:
    """An `event_callback` body for `assistant_thread_started`: the user opened the bot's assistant view."""
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": "C1", "team_id": TEAM_ID, "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": _ts(),
    }
    return _event_callback(event, event_id)


def assistant_message_event(
    text: str, thread_ts: str, channel: str = "D1", user: str = "U1", event_id: str | None = None
) -> dict[str, Any]:
    """An `event_callback` body for a question typed in an assistant thread (message.im with thread_ts)."""
    event = _message("message", text, channel, user, None, channel_type="im", thread_ts=thread_ts)
    return _event_callback(event, event_id)


def thread_message_event(
    text: str,
    thread_ts: str,
    channel: str = "C1",
    user: str = "U1",
    ts: str | None = None,
    event_id: str | None = None,
    parent_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """An `event_callback` body for a reply in a channel thread (message.channels)."""
    event = _message(
        "message", text, channel, user, ts, channel_type="channel", thread_ts=thread_ts, parent_user_id=parent_user_id
    )
    return _event_callback(event, event_id)


def slash_command_form(
    command: str = "/policybot",
    text: str = "",
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str = "",
    trigger_id: str | None = None,
) -> dict[str, str]:
    """Slash command fields (HTTP form body, or the Socket Mode `slash_commands` payload)."""
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "team_domain": "policybot-test",
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "general",
        "user_id": user_id,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def _user(user: str) -> dict[str, str]:
    return {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID}


def block_action_payload(
    action_id: str,
    value: str,
    user: str = "U1",
    channel: str = "C1",
    message_ts: str | None = None,
    response_url: str = "",
    trigger_id: str | None = None,
    block_id: str = "b1",
) -> dict[str, Any]:
    """A `block_actions` payload for a button click on a bot message."""
    message_ts = message_ts or _ts()
    return {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": TEAM_ID, "domain": "policybot-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": message_ts, "text": ""},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": "Button", "emoji": True},
                "action_ts": _ts(),
            }
        ],
    }


def view_submission_payload(
    callback_id: str,
    private_metadata: str = "",
    values: dict[str, dict[str, Any]] | None = None,
    user: str = "U1",
) -> dict[str, Any]:
    """A `view_submission` payload; `values` maps block_id -> action_id -> str (a plain_text_input) or raw dict."""
    state = {
        block_id: {
            action_id: v if isinstance(v, dict) else {"type": "plain_text_input", "value": v}
            for action_id, v in actions.items()
        }
        for block_id, actions in (values or {}).items()
    }
    view: dict[str, Any] = {
        "id": "V1",
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": state},
        "hash": f"{int(time.time())}.fake",
        "title": {"type": "plain_text", "text": "PolicyBot"},
        "previous_view_id": None,
        "root_view_id": "V1",
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "policybot-test"},
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
