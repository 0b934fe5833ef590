"""A signed request captured and sent again after `serve --http` restarts is acknowledged, not answered again."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.config import Settings
from bot.slack.serve import serve
from tests.slack.fakeslack import FakeSlack, dm_event, signed_post
from tests.slack.replies import PILLARS, SECRET, posts_after_sentinel_http

pytestmark = pytest.mark.slow


def _serving(settings: Settings, fake: FakeSlack, answerer: Answerer) -> tuple[threading.Event, threading.Thread]:
    stop, online = threading.Event(), threading.Event()
    env = {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SECRET}
    kwargs = {"env": env, "base_url": fake.api_url, "stop": stop, "announce": lambda _: online.set()}
    thread = threading.Thread(
        target=serve, args=(settings, True), kwargs=kwargs | {"answerer_factory": lambda _: answerer}
    )
    thread.start()
    assert online.wait(10), "the bot did not come online"
    return stop, thread


def test_a_replay_after_a_restart_is_not_answered_again(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slack = shipped_settings.slack.model_copy(update={"feedback_db": tmp_path / "feedback.sqlite3", "http_port": port})
    settings = shipped_settings.model_copy(update={"slack": slack})  # the default state: no state.url
    url, ts = f"http://127.0.0.1:{port}/slack/events", int(time.time())
    raw = json.dumps(dm_event(PILLARS, channel="DREPLAY")).encode()
    stop, thread = _serving(settings, fake_slack, answerer)
    assert signed_post(url, raw, SECRET, timestamp=ts)[0] == 200
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    stop.set()
    thread.join(10)
    stop, thread = _serving(settings, fake_slack, answerer)  # restarted: a new process state over the same file
    try:
        status, headers, _ = signed_post(url, raw, SECRET, timestamp=ts)  # the same bytes and headers
        assert status == 200 and headers.get("x-slack-no-retry") == "1"
        assert [c.body["channel"] for c in posts_after_sentinel_http(fake_slack, url, expected=1)] == ["DREPLAY"]
    finally:
        stop.set()
        thread.join(10)
