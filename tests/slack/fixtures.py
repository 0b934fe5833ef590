"""Pytest fixtures that run real slack_sdk / slack-bolt code against a `FakeSlack` on loopback.

Use from a conftest with `pytest_plugins = ["tests.slack.fixtures"]` or `from tests.slack.fixtures import *`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack

__all__ = ["bolt_http", "bolt_socket_mode", "fake_slack", "no_proxy_env", "web_client"]


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove proxy variables: slack_sdk honours HTTP(S)_PROXY but ignores NO_PROXY, even for 127.0.0.1."""
    for name in PROXY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_slack(no_proxy_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    """A started FakeSlack, with SLACK_* variables cleared so no real token or URL leaks in."""
    for name in [name for name in os.environ if name.startswith("SLACK_")]:
        monkeypatch.delenv(name)
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def web_client(fake_slack: FakeSlack) -> WebClient:
    """A WebClient holding the fake's bot token and pointed at its Web API."""
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def bolt_http() -> Iterator[Callable[[App], str]]:
    """Factory: serve an App over real HTTP (WSGI) and return its `/slack/events` URL; stopped at teardown."""
    servers = WsgiServers()
    yield lambda app: servers.start(make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=QuietHandler))
    servers.stop_all()


class WsgiServers:
    """WSGI servers on loopback, each in its own thread, all stopped together at teardown."""

    def __init__(self) -> None:
        self._running: list[tuple[WSGIServer, threading.Thread]] = []

    def start(self, server: WSGIServer) -> str:
        """Serve `server` in a thread; return its Slack events URL."""
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="bolt-wsgi", daemon=True)
        thread.start()
        self._running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}/slack/events"

    def stop_all(self) -> None:
        for server, thread in self._running:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


@pytest.fixture
def bolt_socket_mode(fake_slack: FakeSlack) -> Iterator[Callable[..., SocketModeHandler]]:
    """Factory: connect a builtin SocketModeHandler for an App to the fake; closed before the fake stops.

    Extra keyword arguments go to SocketModeHandler (e.g. `ping_interval=1` to notice dropped sockets fast).
    """
    handlers: list[SocketModeHandler] = []

    def connect(app: App, **kwargs: Any) -> SocketModeHandler:
        handler = SocketModeHandler(app, app_token=fake_slack.app_token, **kwargs)
        handlers.append(handler)  # its threads start in the constructor: close it even if connect() fails
        handler.client.connect()
        return handler

    yield connect
    for handler in handlers:
        handler.client.auto_reconnect_enabled = False
    # Dropping the sockets wakes each client's blocking recv(); otherwise close() waits out its 3 s timeout.
    fake_slack.disconnect_clients()
    for handler in handlers:
        handler.client.close()
