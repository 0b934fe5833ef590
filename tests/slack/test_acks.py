"""Every acknowledgement (event, /policy, click, modal) reaches Slack within 3 s, whatever answers, Slack's
rate limits or the database are doing; a full answer queue says "busy, try again shortly"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.slack.blocks import FEEDBACK_MODAL, HELPFUL
from bot.slack.http_server import make_http_server
from bot.slack.listeners.commands import COMMAND
from bot.slack.once import Once
from bot.slack.work import BUSY
from bot.state.database import Database
from bot.state.feedback import FeedbackStore
from bot.state.pending import PendingWrites
from tests.slack.asking import click, command
from tests.slack.fakeslack import (
    FORM,
    Call,
    FakeSlack,
    block_action_payload,
    deliver_event,
    dm_event,
    encode_payload,
    signed_post,
    slash_command_form,
    view_submission_payload,
)
from tests.slack.fixtures import WsgiServers
from tests.slack.replies import PILLARS, SECRET, MakeApp
from tests.slack.slow import SlowAnswerer
from tests.state.answers import stored_answer

pytestmark = pytest.mark.slow


@pytest.fixture
def serve_http() -> Iterator[Callable[[App], str]]:
    servers = WsgiServers()
    yield lambda app, once=None: servers.start(make_http_server(app, "127.0.0.1", 0, SECRET, once))
    servers.stop_all()


def acked_in_time(url: str, fake: FakeSlack, name: str) -> dict[str, float]:
    """Send a /policy, a "Helpful" click on answer a1 and a correction; the seconds each took to be acked."""
    values = {"correct_answer": {"value": "innovation, talent, business climate"}}
    modal = encode_payload(view_submission_payload(FEEDBACK_MODAL, "a1", values))
    seconds = {}
    for kind, send in [  # each raises TimeoutError after Slack's 3 s
        ("command", lambda: command(fake, url, PILLARS, f"{name}-cmd")[0]),
        ("click", lambda: click(fake, url, HELPFUL, "a1", f"{name}-click")),
        ("modal", lambda: signed_post(url, modal, SECRET, content_type=FORM)[0]),
    ]:
        started = time.monotonic()
        status = send()
        assert status == 200, (kind, status)
        seconds[kind] = time.monotonic() - started
    return seconds


def test_acks_do_not_wait_behind_slow_answers(
    fake_slack: FakeSlack, make_app: MakeApp, answerer: Answerer, store: FeedbackStore, serve_http: Callable[..., str]
) -> None:
    store.record_answer("a1", stored_answer(PILLARS), [], "U1", "C1")
    url = serve_http(make_app(SlowAnswerer(answerer, 1.0)))
    for n in range(10):  # ten questions, each a second of work: bolt's 8 threads would all be answering
        attempts = deliver_event(url, json.dumps(dm_event(PILLARS, channel=f"D{n}")).encode(), SECRET)
        assert [(a.retry_num, a.status) for a in attempts] == [(0, 200)]
    assert max(acked_in_time(url, fake_slack, "slow").values()) < 3.0
    fake_slack.wait_for_call("response/slow-cmd", timeout=30)  # and the /policy answer still comes


def test_acks_do_not_wait_behind_rate_limited_posts(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    store.record_answer("a1", stored_answer(PILLARS), [], "U1", "C1")
    socket_app()
    fake_slack.rate_limit("chat.postMessage", 5)  # every post waits out Retry-After: 5
    for n in range(10):
        fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event(PILLARS, channel=f"D{n}")))
    time.sleep(0.5)  # the answers are now sleeping on their 429s
    for kind, payload in [
        ("slash_commands", slash_command_form(COMMAND, PILLARS, response_url=fake_slack.response_url("rl-cmd"))),
        ("interactive", block_action_payload(HELPFUL, "a1", response_url=fake_slack.response_url("rl-click"))),
    ]:
        fake_slack.wait_for_ack(fake_slack.send_envelope(kind, payload), timeout=3.0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len({c.body["channel"] for c in delivered(fake_slack)}) < 10:
        time.sleep(0.2)
    channels = [c.body["channel"] for c in delivered(fake_slack)]
    assert sorted(channels) == sorted(f"D{n}" for n in range(10))  # each answered, once, after the limit


def delivered(fake: FakeSlack) -> list[Call]:
    """The answers Slack accepted in the D<n> channels (not the posts it answered 429)."""
    return [c for c in fake.calls_to("chat.postMessage") if c.body["channel"].startswith("D") and not fake.refused(c)]


def test_a_full_answer_queue_says_busy_at_once(
    fake_slack: FakeSlack, make_app: MakeApp, answerer: Answerer, serve_http: Callable[..., str]
) -> None:
    url = serve_http(make_app(SlowAnswerer(answerer, 1.5), answer_workers=1, answer_queue=1))
    for n in range(3):
        assert signed_post(url, json.dumps(dm_event(PILLARS, channel=f"D{n}")).encode(), SECRET)[0] == 200
    [busy] = fake_slack.wait_for_call("chat.postMessage", timeout=1.0)  # long before any answer
    assert busy.body["channel"] == "D2" and busy.body["text"] == BUSY
    posts = fake_slack.wait_for_call("chat.postMessage", count=3, timeout=10)
    assert sorted(c.body["channel"] for c in posts[1:]) == ["D0", "D1"]


def test_acks_are_in_time_when_the_database_does_not_answer(
    fake_slack: FakeSlack, answerer: Answerer, silent_database: Database, tmp_path: Path, serve_http: Callable[..., str]
) -> None:
    store = FeedbackStore(silent_database, PendingWrites(tmp_path / "pending.jsonl"))
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    once = Once.kept_in(silent_database)
    app = build_app(SlackConfig(), answerer, client, store, signing_secret=SECRET, working_after=5.0, once=once)
    url = serve_http(app, once)
    attempts = deliver_event(url, json.dumps(dm_event(PILLARS, channel="DDB")).encode(), SECRET)
    assert [(a.retry_num, a.status) for a in attempts] == [(0, 200)]
    assert max(acked_in_time(url, fake_slack, "db").values()) < 3.0
    fake_slack.wait_for_call("chat.postMessage", timeout=15)  # the question is still answered
