"""A signed request captured and sent again after `serve --http` restarts (even after a kill -9) is
acknowledged, not answered again: the default state file remembers it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.config import Settings
from bot.slack.serve import serve
from tests.conftest import KNOWLEDGE
from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event, signed_post
from tests.slack.replies import PILLARS, SECRET, posts_after_sentinel_http
from tests.state import replica_processes
from tests.state.replica_processes import Replica, free_port, replica_env

pytestmark = pytest.mark.slow


def _http_settings(shipped: Settings, tmp_path: Path) -> tuple[Settings, str]:
    """The shipped settings serving HTTP on a free port, the state in the default file; and the events URL."""
    port = free_port()
    slack = shipped.slack.model_copy(update={"feedback_db": tmp_path / "feedback.sqlite3", "http_port": port})
    return shipped.model_copy(update={"slack": slack}), f"http://127.0.0.1:{port}/slack/events"


@contextlib.contextmanager
def _serving(settings: Settings, fake: FakeSlack, answerer: Answerer) -> Iterator[None]:
    """`serve --http` in a thread, online until the block ends (a restart is a second block)."""
    stop, online = threading.Event(), threading.Event()
    env = {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SECRET}
    kwargs = {"env": env, "base_url": fake.api_url, "stop": stop, "announce": lambda _: online.set()}
    thread = threading.Thread(
        target=serve, args=(settings, True), kwargs=kwargs | {"answerer_factory": lambda _: answerer}
    )
    thread.start()
    try:
        assert online.wait(10), "the bot did not come online"
        yield
    finally:
        stop.set()
        thread.join(10)


def test_a_replay_after_a_restart_is_not_answered_again(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    settings, url = _http_settings(shipped_settings, tmp_path)  # the default state: no state.url
    ts = int(time.time())
    raw = json.dumps(dm_event(PILLARS, channel="DREPLAY")).encode()
    with _serving(settings, fake_slack, answerer):
        assert signed_post(url, raw, SECRET, timestamp=ts)[0] == 200
        fake_slack.wait_for_call("chat.postMessage", timeout=5)
    with _serving(settings, fake_slack, answerer):  # restarted: a new process state over the same file
        status, headers, _ = signed_post(url, raw, SECRET, timestamp=ts)  # the same bytes and headers
        assert status == 200 and headers.get("x-slack-no-retry") == "1"
        assert [c.body["channel"] for c in posts_after_sentinel_http(fake_slack, url, expected=1)] == ["DREPLAY"]


def test_an_edited_mention_after_a_restart_is_not_answered_again(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    settings, url = _http_settings(shipped_settings, tmp_path)
    mention = app_mention_event(f"<@UBOT> {PILLARS}", channel="CEDIT", ts="1700000000.000100")
    with _serving(settings, fake_slack, answerer):
        assert signed_post(url, json.dumps(mention).encode(), SECRET)[0] == 200
        fake_slack.wait_for_call("chat.postMessage", timeout=5)
    edited = app_mention_event(f"<@UBOT> {PILLARS} (typo fixed)", channel="CEDIT", ts="1700000000.000100")
    edited["event"]["edited"] = {"user": "U1", "ts": "1700000100.000000"}  # Slack re-sends it: new event_id, same ts
    with _serving(settings, fake_slack, answerer):
        assert signed_post(url, json.dumps(edited).encode(), SECRET)[0] == 200
        assert [c.body["channel"] for c in posts_after_sentinel_http(fake_slack, url, expected=1)] == ["CEDIT"]


def test_a_replay_after_a_kill_9_is_not_answered_again(
    fake_slack: FakeSlack, shipped_settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"  # no state.url: one bot, its state in slack.feedback_db
    config.write_text(
        f"knowledge_dir: {KNOWLEDGE}\nindex_dir: {shipped_settings.index_dir}\nhistory_file: {tmp_path / 'hist'}\n"
        f"slack:\n  http_port: {port}\n  feedback_db: {tmp_path / 'feedback.sqlite3'}\n"
    )
    bot = Replica("bot", config, replica_env(fake_slack)).start()
    url, ts, secret = bot.url, int(time.time()), replica_processes.SECRET
    raw = json.dumps(dm_event(PILLARS, channel="DREPLAY")).encode()
    try:
        assert signed_post(url, raw, secret, timestamp=ts)[0] == 200
        fake_slack.wait_for_call("chat.postMessage", timeout=30)
        bot.kill()
        bot.start()
        status, headers, _ = signed_post(url, raw, secret, timestamp=ts)
        assert status == 200 and headers.get("x-slack-no-retry") == "1", bot.lines
        assert signed_post(url, json.dumps(dm_event(PILLARS, channel="DNEXT")).encode(), secret)[0] == 200
        posts = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=30)
        time.sleep(0.3)  # a second answer to DREPLAY, if any, would land by now
        assert [c.body["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["DREPLAY", "DNEXT"], posts
    finally:
        bot.kill()
