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
_OK_METHODS = frozenset(
    {
        "reactions.add",
        "reactions.remove",
        "views.open",
        "views.publish",
        "views.update",
        "assistant.threads.setStatus",
        "api.test",
    }
)
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_KNOWN_METHODS = _OK_METHODS | _MESSAGE_METHODS | {"auth.test", "apps.connections.open"}
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
        """Queue a one-off reply for `method`, e.g. `script("chat.postMessage", 429, {"Retry-After": "0"})`.

        A missing body becomes `{"ok": false, "error": "ratelimited"}` for 429, else `{"ok": status < 400}`.
        """
        if body is None:
            body = {"ok": False, "error": "ratelimited"} if status == 429 else {"ok": status < 400}
        with self._cond:
            self._scripts[method].append(Reply(status, dict(headers or {}), body))

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
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
            scripted = self._scripts[call.method].popleft() if self._scripts.get(call.method) else None
        if scripted is not None:
            return scripted
        if path.startswith("/response/"):
            return Reply(200, {"Content-Type": "text/html"}, "ok")
        if not path.startswith("/api/"):
            return Reply(404, {"Content-Type": "text/plain"}, "not found")
        return Reply(200, {}, self._api_reply(call))

    def _api_reply(self, call: Call) -> dict[str, Any]:
        method, body = call.method, call.body
        if method not in _KNOWN_METHODS:
            return {"ok": False, "error": "unknown_method"}
        auth = call.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else str(body.get("token", ""))
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
        error = _payload_error(method, body)
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
    """Slack's error for an oversized message or view, or None when it fits."""
    if len(str(body.get("text") or "")) > MAX_TEXT_CHARS:
        return "msg_too_long"
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else body.get("blocks")
    if not isinstance(blocks, list):
        return None
    limit = MAX_VIEW_BLOCKS if method.startswith("views.") else MAX_MESSAGE_BLOCKS
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") if isinstance(block, dict) and block.get("type") == "section" else None
        if isinstance(text, dict) and len(str(text.get("text", ""))) > MAX_SECTION_TEXT_CHARS:
            return "invalid_blocks"
    return None


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
        with opener.open(request, timeout=3) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


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
        "trigger_id": trigger_id or f"{int(time.time())}.1.{uuid.uuid4().hex}",
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
        "trigger_id": trigger_id or f"{int(time.time())}.1.{uuid.uuid4().hex}",
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
        "trigger_id": f"{int(time.time())}.1.fake",
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
