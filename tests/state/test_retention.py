"""`state.retention_days`: answers older than the setting go, with their votes and corrections; newer stay."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from bot.state.feedback import HELPFUL, FeedbackStore
from bot.state.retention import RetentionPurger, purge_expired
from tests.state.answers import stored_answer


def aged(store: FeedbackStore, answer_id: str, created: str) -> None:
    """Make a stored answer as old as `created` says."""
    with store.db.transaction() as tx:
        tx.execute("UPDATE answers SET created = ? WHERE id = ?", (created, answer_id))


def stored_ids(store: FeedbackStore) -> dict[str, list[str]]:
    with store.db.transaction() as tx:
        return {
            table: sorted(r["a"] for r in tx.execute(f"SELECT {column} AS a FROM {table}").fetchall())
            for table, column in [("answers", "id"), ("votes", "answer_id"), ("corrections", "answer_id")]
        }


def test_answers_older_than_the_retention_go_with_their_feedback(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for answer_id in ("old", "edge", "new"):
        store.record_answer(answer_id, stored_answer(), [], "U1", "C1")
        store.record_vote(answer_id, "U2", "C1", HELPFUL)
        store.record_correction(answer_id, "U2", "the right answer", "")
    aged(store, "old", "2026-01-01T00:00:00+00:00")
    aged(store, "edge", "2026-01-31T00:00:01+00:00")
    now = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 30 days back: 2026-01-31T00:00:00
    assert purge_expired(store, 30, now=lambda: now) == 1
    assert stored_ids(store) == {"answers": ["edge", "new"], "votes": ["edge", "new"], "corrections": ["edge", "new"]}
    assert purge_expired(store, 30, now=lambda: now) == 0


def test_the_running_bot_purges_at_start(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.record_answer("old", stored_answer(), [], "U1", "C1")
    aged(store, "old", "2020-01-01T00:00:00+00:00")
    purger = RetentionPurger(store, days=90, every=3600).start()
    try:
        deadline = time.monotonic() + 5
        while stored_ids(store)["answers"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        purger.stop()
    assert stored_ids(store)["answers"] == []
