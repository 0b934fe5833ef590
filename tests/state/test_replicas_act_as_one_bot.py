"""Two `policybot serve --http` replicas sharing one state database act as one bot: each event answered once,
the published index version served, no feedback lost to the other replica, an outage or a restart."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.slack.blocks import APOLOGY, SHARE
from bot.slack.blocks import HELPFUL as HELPFUL_BUTTON
from bot.state.database import Database, parse_url
from bot.state.feedback import HELPFUL
from bot.state.migrations import migrate
from bot.state.published import published_version, record_published_version
from embeddings.index.build import build_index
from embeddings.index.versions import current_version_name
from tests.conftest import KNOWLEDGE
from tests.postgres_fixtures import PASSWORD, PostgresServer
from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event, thread_message_event
from tests.state.replica_processes import (
    PILLARS,
    Deployment,
    Replica,
    answer_id,
    answer_text,
    post_event,
    replica_config,
    replica_env,
    start_all,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_state_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh state database of each kind for this module's replicas, named by URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    yield server.url(name)
    with contextlib.suppress(Exception):
        server.drop_database(name)


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest,
    shared_state_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Any,
    shipped_settings: Settings,
) -> Iterator[Deployment]:
    """Replicas a and b over an index whose CURRENT is newer than the version the database names."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    knowledge, index = tmp_path / "knowledge", tmp_path / "index"
    shutil.copytree(KNOWLEDGE, knowledge)
    shutil.copytree(shipped_settings.index_dir, index)  # the shipped knowledge, already embedded
    first = str(current_version_name(index))
    db = Database(parse_url(shared_state_url, tmp_path), shared=True)
    migrate(db)
    record_published_version(db, first)
    doc = knowledge / "united-states" / "key-policies.md"
    doc.write_text(doc.read_text().replace("three pillars", "three main pillars"))
    # Only the edited passages are embedded; CURRENT moves on; the database still names `first`.
    build_index(knowledge, index, embedder, shipped_settings.splitter)
    second = str(current_version_name(index))
    server = request.getfixturevalue("postgres_server") if shared_state_url.startswith("postgresql") else None
    with FakeSlack() as fake:
        env = replica_env(fake)
        a = Replica("a", replica_config(tmp_path, "a", index, knowledge, shared_state_url), env)
        b = Replica("b", replica_config(tmp_path, "b", index, knowledge, shared_state_url), env)
        try:
            start_all(a, b)
            yield Deployment(fake, db, a, b, first, second, server)
        finally:
            a.stop()
            b.stop()
            db.close()


@pytest.fixture
def replicas(deployment: Deployment) -> Deployment:
    """The module's deployment with both replicas running and FakeSlack's record of calls emptied."""
    start_all(*(r for r in deployment.both if not r.running))
    deployment.fake.calls.clear()
    return deployment


def _outage_server(replicas: Deployment) -> PostgresServer:
    if replicas.server is None:
        pytest.skip("a SQLite state database has no server to lose")
    return replicas.server


def test_an_event_delivered_to_both_replicas_and_retried_is_answered_once(replicas: Deployment) -> None:
    event = dm_event(PILLARS, event_id="EvTWICE")
    results: list[int] = []
    posts = [threading.Thread(target=lambda r=r: results.append(post_event(r.url, event))) for r in replicas.both]
    for t in posts:
        t.start()
    for t in posts:
        t.join()
    assert results == [200, 200]
    assert post_event(replicas.b.url, event, retry_num=1) == 200  # Slack retries it at one of them
    replicas.fake.wait_for_call("chat.postMessage", timeout=20)
    time.sleep(1.5)
    assert len(replicas.fake.calls_to("chat.postMessage")) == 1, "answered more than once"


def test_replicas_serve_the_version_the_database_names_not_the_newest_build(replicas: Deployment) -> None:
    replicas.publish(replicas.first)
    for replica in replicas.both:
        assert "three pillars" in answer_text(replicas.ask(replica)), replica.name


def test_a_version_published_by_policybot_index_reaches_every_replica(replicas: Deployment) -> None:
    replicas.publish(replicas.second)
    assert published_version(replicas.db) == replicas.second
    for replica in replicas.both:
        assert "three main pillars" in answer_text(replicas.ask(replica)), replica.name


def test_a_vote_clicked_on_the_replica_that_did_not_answer_counts(replicas: Deployment) -> None:
    answered = answer_id(replicas.ask(replicas.a))
    assert replicas.click(replicas.b, HELPFUL_BUTTON, answered, "U2", "vote-b")["text"].startswith("Thanks")
    wait_until(lambda: replicas.votes_by("U2") == [HELPFUL], 15, "the vote clicked on b is missing")


def test_a_share_during_a_database_outage_apologises_and_works_once_it_is_back(replicas: Deployment) -> None:
    server = _outage_server(replicas)
    answered = answer_id(replicas.ask(replicas.a))
    server.stop()  # the database goes away mid-run
    try:
        assert replicas.click(replicas.a, SHARE, answered, "U3", "share-down")["text"] == APOLOGY
    finally:
        server.start()
    assert replicas.click(replicas.b, SHARE, answered, "U1", "share-up")["response_type"] == "in_channel"


def test_a_vote_kept_during_a_database_outage_is_written_although_its_replica_died(replicas: Deployment) -> None:
    server = _outage_server(replicas)
    answered = answer_id(replicas.ask(replicas.b))
    server.stop()
    try:
        assert replicas.click(replicas.a, HELPFUL_BUTTON, answered, "U3", "vote-down")["text"].startswith("Thanks")
        replicas.a.kill()  # the replica holding the kept vote dies before the database is back
    finally:
        server.start()
    replicas.a.start()  # restarted: whatever it kept is written
    wait_until(lambda: replicas.votes_by("U3") == [HELPFUL], 15, "the vote kept during the outage is missing")


def test_a_restarted_replica_serves_the_published_version_and_takes_votes_at_once(replicas: Deployment) -> None:
    replicas.a.kill()
    record_published_version(replicas.db, replicas.first)  # index/CURRENT names `second`
    replicas.a.start()
    post = replicas.ask(replicas.a)
    assert "three pillars" in answer_text(post)
    assert replicas.click(replicas.a, HELPFUL_BUTTON, answer_id(post), "U4", "vote-a")["text"].startswith("Thanks")
    wait_until(lambda: replicas.votes_by("U4") == [HELPFUL], 15, "the vote clicked on the restarted a is missing")


def _reading(post: Any) -> str | None:
    notes = [e["text"] for b in post.body["blocks"] if b["type"] == "context" for e in b["elements"]]
    return next((n for n in notes if n.startswith("Reading this as: ")), None)


def test_a_thread_is_one_conversation_on_either_replica_and_after_a_restart(replicas: Deployment) -> None:
    fake, thread = replicas.fake, "1800.000100"

    def ask(replica: Replica, event: dict[str, Any]) -> Any:
        posted = len(fake.calls_to("chat.postMessage"))
        assert post_event(replica.url, event) == 200
        return fake.wait_for_call("chat.postMessage", count=posted + 1, timeout=20)[-1]

    first = ask(replicas.a, app_mention_event("<@UBOT> What did the 2011 PCAST report recommend?", ts=thread))
    assert _reading(first) is None and "Advanced Manufacturing Initiative" in answer_text(first)
    second = ask(replicas.b, thread_message_event("And the 2012 one?", thread_ts=thread))
    assert _reading(second) == "Reading this as: What did the 2012 PCAST report recommend?"
    replicas.b.kill()
    replicas.b.start()  # a restarted replica remembers nothing itself: the thread is in the database
    third = ask(replicas.b, thread_message_event("Who commissioned them?", thread_ts=thread))
    assert str(_reading(third)).startswith("Reading this as: Who commissioned PCAST")  # the topic of turns 1 and 2


def test_replicas_name_the_database_they_lost_without_its_password(replicas: Deployment) -> None:
    if replicas.server is not None:
        replicas.server.stop()
        try:
            wait_until(lambda: "***@127.0.0.1" in replicas.log(), 10, "no replica named the database it lost")
        finally:
            replicas.server.start()
    assert PASSWORD not in replicas.log()
