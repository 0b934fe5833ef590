"""Slack app fixtures: the real PolicyBot App wired to FakeSlack, its feedback store, and a small disk to fill."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.state.database import Database, parse_url
from bot.state.feedback import FeedbackStore
from tests.disk_faults import small_disk  # noqa: F401  (a 4 MB tmpfs to fill)
from tests.slack.fakeslack import FakeSlack
from tests.slack.replies import SECRET, MakeApp


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


@pytest.fixture
def make_app(fake_slack: FakeSlack, answerer: Answerer, store: FeedbackStore) -> Iterator[MakeApp]:
    """Factory for the real PolicyBot App wired to the fake; keyword arguments go to SlackConfig."""

    def make(custom_answerer: Any = None, working_after: float = 0.0, **config: Any) -> App:
        client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
        settings = SlackConfig(feedback_db=store.db.path, **config)
        return build_app(
            settings, custom_answerer or answerer, client, store, signing_secret=SECRET, working_after=working_after
        )

    yield make


@pytest.fixture
def socket_app(make_app: MakeApp, bolt_socket_mode: Callable[..., Any]) -> Callable[..., App]:
    """Factory: the App from `make_app`, connected to the fake over Socket Mode."""

    def connect(**kwargs: Any) -> App:
        app = make_app(**kwargs)
        bolt_socket_mode(app)
        return app

    return connect


@pytest.fixture
def silent_database(tmp_path: Path) -> Iterator[Database]:
    """A PostgreSQL address that accepts connections and never answers (a hung server, a black-holed network)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    yield Database(parse_url(f"postgresql://policybot@127.0.0.1:{port}/policybot", tmp_path), shared=True)
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()
