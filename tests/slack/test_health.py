"""`serve --http` runs on a production server (waitress) with probes: /healthz while it serves, /readyz only
while the index is loaded and the state database answers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from slack_bolt import App

from bot.answering.answerer import Answerer
from bot.slack.health import readiness
from bot.slack.http_server import make_http_server
from bot.state.database import Database
from bot.state.feedback import FeedbackStore
from tests.slack.fixtures import WsgiServers
from tests.slack.replies import SECRET, MakeApp

pytestmark = pytest.mark.slow


def get(url: str) -> tuple[int, dict[str, str], str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    servers = WsgiServers()

    def start(app: App, ready: Callable[[], list[str]]) -> str:
        return servers.start(make_http_server(app, "127.0.0.1", 0, SECRET, ready=ready)).removesuffix("/slack/events")

    yield start
    servers.stop_all()


def test_a_ready_bot_answers_both_probes_on_waitress(
    make_app: MakeApp, answerer: Answerer, store: FeedbackStore, serve: Callable[..., str]
) -> None:
    base = serve(make_app(), readiness(answerer, store.db))
    assert get(base + "/healthz")[0] == 200
    status, headers, body = get(base + "/readyz")
    assert (status, body) == (200, "ok\n")
    assert headers["Server"] == "policybot" and headers["Cache-Control"] == "no-store"  # waitress, named ours


def test_readyz_says_503_and_why_when_the_database_does_not_answer(
    make_app: MakeApp, answerer: Answerer, silent_database: Database, serve: Callable[..., str]
) -> None:
    base = serve(make_app(), readiness(answerer, silent_database))
    started = time.monotonic()
    status, _, body = get(base + "/readyz")
    assert status == 503 and "state database postgresql://policybot@127.0.0.1" in body and "unreachable" in body
    assert time.monotonic() - started < 1.5  # a probe's timeout is about a second
    assert get(base + "/healthz")[0] == 200  # alive all the same: restarting it would not bring the database back
