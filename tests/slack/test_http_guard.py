"""`serve --http`'s guard: a malformed header or body gets 400 or 401, never a 500 or a traceback,
and nothing it refuses is acted on. The real PolicyBot App behind the real server, FakeSlack as Slack."""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack.http_server import make_http_server
from bot.slack.once import Once
from bot.state.feedback import FeedbackStore
from tests.slack.fakeslack import FakeSlack
from tests.slack.fixtures import WsgiServers
from tests.slack.hostile import EVENT, Raw, fuzzed_request, raw_post, sign
from tests.slack.replies import SECRET, MakeApp, posts_after_sentinel_http

pytestmark = pytest.mark.slow


@pytest.fixture
def url(make_app: MakeApp, store: FeedbackStore) -> Iterator[str]:
    servers = WsgiServers()
    server = make_http_server(make_app(), "127.0.0.1", 0, SECRET, Once.kept_in(store.db))  # as `serve --http` does
    server.request_timeout = 0.5  # a stalled client is given up on quickly
    yield servers.start(server)
    servers.stop_all()


def _signed(timestamp: bytes, body: bytes, length: int | None = None) -> list[tuple[bytes, bytes]]:
    return [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(body) if length is None else length).encode()),
        (b"X-Slack-Request-Timestamp", timestamp),
        (b"X-Slack-Signature", sign(SECRET, timestamp, body)),
    ]


NOW = str(int(time.time())).encode()
MALFORMED = {
    "timestamp abc": (Raw(_signed(b"abc", EVENT), EVENT), 401),
    "timestamp 1.5": (Raw(_signed(b"1.5", EVENT), EVENT), 401),
    "timestamp empty": (Raw(_signed(b"", EVENT), EVENT), 401),
    "timestamp of 5000 digits": (Raw(_signed(b"9" * 5000, EVENT), EVENT), 401),
    "signature not ASCII": (
        Raw([*_signed(NOW, EVENT)[:3], (b"X-Slack-Signature", "v0=é".encode("latin-1"))], EVENT),
        401,
    ),
    "body not UTF-8": (Raw(_signed(NOW, b'{"text": "\xff"}'), b'{"text": "\xff"}'), 400),
    # waitress waits for the rest of the body, then closes the connection after request_timeout: no status, no thread
    "body shorter than Content-Length": (Raw(_signed(NOW, EVENT, len(EVENT) + 10), EVENT, hold_open=True), None),
}


@pytest.mark.parametrize(("request_", "status"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_4xx_and_no_traceback(
    url: str, request_: Raw, status: int | None, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    assert raw_post(url, request_) == status
    assert time.monotonic() - started < 3.0  # answered, or given up on by the server, well before the client's 5 s
    time.sleep(0.1)  # the server thread's log lines land
    assert "Traceback" not in capfd.readouterr().err
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []


def test_500_fuzzed_requests_get_no_500_and_none_is_acted_on(
    fake_slack: FakeSlack, url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(21)
    requests = [fuzzed_request(rng, SECRET) for _ in range(500)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(lambda r: raw_post(url, r), requests))
    assert time.monotonic() - started < 60
    # 404: a signed body no listener takes; 200: the same signed request twice in a second, the second a replay;
    # None: waitress closed the connection before the app saw it (a body cut short, a Content-Length of 5,000 digits)
    assert set(statuses) <= {None, 200, 400, 401, 404, 411, 413}, statuses
    assert posts_after_sentinel_http(fake_slack, url, expected=0) == []
    acted = [c.method for c in fake_slack.calls if c.method != "auth.test" and c.body.get("channel") != "DSENTINEL"]
    assert acted == []
    assert "Traceback" not in capfd.readouterr().err
    print(json.dumps(dict(sorted(statuses.items(), key=str))))
