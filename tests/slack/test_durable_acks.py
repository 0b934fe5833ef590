"""A vote or a correction gets Slack's HTTP 200 only once it is in the state database, so a bot killed
right after answering has lost nothing it acknowledged; one that cannot be stored is still answered
within Slack's 3 s, and the user is told it was not saved."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.slack.blocks import APOLOGY, FEEDBACK_MODAL, HELPFUL
from bot.slack.http_server import make_http_server
from bot.slack.listeners.actions import CORRECTION_NOT_SAVED, THANKS
from bot.state.database import Database
from bot.state.feedback import FeedbackStore
from bot.state.pending import PendingWrites
from tests.slack.fakeslack import FakeSlack, block_action_payload, encode_payload, signed_post, view_submission_payload
from tests.slack.fixtures import WsgiServers
from tests.slack.replies import PILLARS, SECRET, MakeApp
from tests.state.answers import stored_answer
from tests.state.stored import stored_votes

pytestmark = pytest.mark.slow

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def events_url(make_app: MakeApp, store: FeedbackStore) -> Iterator[str]:
    """`serve --http`'s server for the real app, with one posted answer ("a1") to vote on."""
    store.record_answer("a1", stored_answer(PILLARS), [], "U1", "C1")
    servers = WsgiServers()
    yield servers.start(make_http_server(make_app(), "127.0.0.1", 0, SECRET))
    servers.stop_all()


@contextmanager
def another_writer(path: Path) -> Iterator[None]:
    """Another connection holding the SQLite file's write lock, as a long transaction or a slow disk would."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def vote(url: str, fake: FakeSlack) -> tuple[int, float]:
    """Click "Helpful" on answer a1; (HTTP status, seconds until it came)."""
    click = block_action_payload(HELPFUL, "a1", user="U7", response_url=fake.response_url("vote"))
    started = time.monotonic()
    status = signed_post(url, encode_payload(click), SECRET, content_type=FORM)[0]
    return status, time.monotonic() - started


def test_a_vote_is_acknowledged_only_once_it_is_stored(
    fake_slack: FakeSlack, events_url: str, store: FeedbackStore
) -> None:
    assert store.db.path is not None
    with ThreadPoolExecutor(1) as pool, another_writer(store.db.path):
        sent = pool.submit(vote, events_url, fake_slack)
        time.sleep(0.3)  # the vote waits for the database (up to its 0.6 s write timeout)...
        assert not sent.done(), "Slack got its 200 before the vote was stored"
    status, seconds = sent.result(timeout=3)  # ...and is acknowledged once the writer lets go
    assert status == 200 and 0.3 <= seconds < 3.0
    assert [(v["user"], v["vote"]) for v in stored_votes(store.db)] == [("U7", "helpful")]
    [thanks] = fake_slack.wait_for_call("response/vote", timeout=5)
    assert thanks.body["text"] == THANKS


def test_a_vote_that_cannot_be_stored_is_answered_in_time_and_the_user_is_told(
    fake_slack: FakeSlack, events_url: str, store: FeedbackStore
) -> None:
    assert store.db.path is not None
    with another_writer(store.db.path):
        status, seconds = vote(events_url, fake_slack)
        [told] = fake_slack.wait_for_call("response/vote", timeout=5)
    assert status == 200 and seconds < 3.0  # in time: Slack shows no error of its own...
    assert told.body["response_type"] == "ephemeral" and told.body["text"] == APOLOGY  # ...the user reads ours
    assert stored_votes(store.db) == []


def test_a_correction_that_cannot_be_stored_in_time_keeps_the_modal_open(
    fake_slack: FakeSlack, events_url: str, store: FeedbackStore
) -> None:
    assert store.db.path is not None
    values = {"correct_answer": {"value": "innovation, talent, business climate"}}
    submission = encode_payload(view_submission_payload(FEEDBACK_MODAL, "a1", values))
    with another_writer(store.db.path):
        started = time.monotonic()
        status, _, body = signed_post(events_url, submission, SECRET, content_type=FORM)
        seconds = time.monotonic() - started
    assert status == 200 and seconds < 3.0
    assert CORRECTION_NOT_SAVED in body.decode() and '"response_action": "errors"' in body.decode()
    assert store.report().corrections == []


def kept(pending: PendingWrites) -> list[list[object]]:
    """The writes the pending file holds now, read without replaying them."""
    return [json.loads(line) for line in pending.path.read_text().splitlines()] if pending.path.exists() else []


@contextmanager
def serving(store: FeedbackStore, fake: FakeSlack, answerer: Answerer) -> Iterator[str]:
    """`serve --http`'s server for the real app over `store`; its events URL."""
    client = WebClient(token=fake.bot_token, base_url=fake.api_url)
    app = build_app(SlackConfig(), answerer, client, store, SECRET)
    servers = WsgiServers()
    try:
        yield servers.start(make_http_server(app, "127.0.0.1", 0, SECRET))
    finally:
        servers.stop_all()


def test_a_vote_thanked_while_the_database_hangs_is_already_kept(
    fake_slack: FakeSlack, answerer: Answerer, tmp_path: Path
) -> None:
    pending = PendingWrites(tmp_path / "pending.jsonl")
    store = FeedbackStore(tmp_path / "feedback.sqlite3", pending)
    store.record_answer("a1", stored_answer(PILLARS), [], "U1", "C1")
    assert store.db.path is not None
    with serving(store, fake_slack, answerer) as url:
        with another_writer(store.db.path):  # held past the deadline: writing what is kept waits for it
            pending.add("vote", ["a1", "U1", "C1", "helpful", "2026-01-01T00:00:00+00:00"])  # from an earlier outage
            status, seconds = vote(url, fake_slack)
            at_the_ack = kept(pending)  # what a kill -9 right now would leave
            [told] = fake_slack.wait_for_call("response/vote", timeout=5)
        assert status == 200 and seconds < 3.0 and told.body["text"] == THANKS
        assert ["a1", "U7"] in [args[:2] for operation, args in at_the_ack if operation == "vote"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(stored_votes(store.db)) < 2:
            time.sleep(0.2)
        assert sorted(v["user"] for v in stored_votes(store.db)) == ["U1", "U7"]  # and written once it can be


def test_a_vote_thanked_while_postgresql_does_not_answer_is_already_kept(
    fake_slack: FakeSlack, answerer: Answerer, silent_database: Database, tmp_path: Path
) -> None:
    pending = PendingWrites(tmp_path / "pending.jsonl")
    answer = ["a1", "2026-01-01T00:00:00+00:00", PILLARS, "", "[]", "v1", 1, "U1", "C1", None, None, "[]", ""]
    pending.add("answer", answer)  # kept while PostgreSQL is unreachable
    with serving(FeedbackStore(silent_database, pending), fake_slack, answerer) as url:
        status, seconds = vote(url, fake_slack)
        at_the_ack = kept(pending)
        [told] = fake_slack.wait_for_call("response/vote", timeout=5)
    assert status == 200 and seconds < 3.0 and told.body["text"] == THANKS
    assert [operation for operation, _ in at_the_ack] == ["answer", "vote"]
