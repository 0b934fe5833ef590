"""Pending writes: feedback recorded while PostgreSQL is down is kept in a private file and written on reconnect."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.errors import StateUnavailable
from bot.state.connect import open_database
from bot.state.feedback import HELPFUL, FeedbackStore
from bot.state.pending import PendingWrites
from tests.postgres_fixtures import PostgresServer
from tests.state.answers import stored_answer
from tests.state.databases import state_settings


def test_feedback_written_while_postgres_is_down_is_kept_and_written_on_reconnect(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    settings = state_settings(postgres_url, tmp_path)
    db = open_database(settings, env={})
    store = FeedbackStore(db, PendingWrites(settings.state.pending_file))
    store.record_answer("a1", stored_answer(), [], "U1", "C1")
    postgres_server.stop()
    try:
        store.record_answer("a2", stored_answer("Second?"), [], "U1", "C1")  # kept, not raised
        assert store.record_vote("a2", "U1", "C1", HELPFUL)
        assert store.record_correction("a1", "U2", "Right", "")
        with pytest.raises(StateUnavailable, match=r"postgresql://policybot:\*\*\*@127.0.0.1"):
            store.report()  # reads cannot be kept: they fail, and the caller apologises
        assert settings.state.pending_file.stat().st_mode & 0o777 == 0o600
    finally:
        postgres_server.start()
    assert store.flush() == 3
    report = store.report()
    assert (report.answers, report.helpful, len(report.corrections)) == (2, 1, 1)
    assert not store.pending or not store.pending.has_entries()
    db.close()


def test_a_write_kept_while_a_replay_waits_on_the_database_is_not_lost(tmp_path: Path) -> None:
    pending = PendingWrites(tmp_path / "pending.jsonl")
    pending.add("vote", ["a1", "U1", "C1", HELPFUL])
    later = ("vote", ["a1", "U2", "C1", HELPFUL])

    def slow_database(entries: list[tuple[str, list[object]]]) -> None:
        click = threading.Thread(target=pending.add, args=later, daemon=True)  # kept while the database is asked
        click.start()
        click.join(2)
        assert not click.is_alive(), "keeping a write waited for the database"

    assert pending.replay(slow_database) == 1
    assert pending.replay(lambda entries: None) == 1 and not pending.has_entries()


def test_replayed_writes_that_also_got_through_change_nothing(tmp_path: Path) -> None:
    pending = PendingWrites(tmp_path / "pending.jsonl")
    store = FeedbackStore(tmp_path / "feedback.sqlite3", pending)
    store.record_answer("a1", stored_answer(), [], "U1", "C1")
    assert store.record_correction("a1", "U2", "Right", "")
    assert store.record_vote("a1", "U2", "C1", "not_helpful")
    [correction] = store.report().corrections
    pending.add("correction", ["a1", "U2", correction.created, "Right", ""])  # kept by the late attempt as well
    pending.add("vote", ["a1", "U2", "C1", HELPFUL, "2020-01-01T00:00:00+00:00"])  # a click before the last one
    assert store.flush() == 2
    assert [c.right_answer for c in store.report().corrections] == ["Right"]
    assert (store.report().helpful, store.report().not_helpful) == (0, 1)
