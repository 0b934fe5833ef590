"""Feedback in the shared state database: what one replica records, another reads back."""

from __future__ import annotations

from pathlib import Path

from bot.state.connect import open_database
from bot.state.database import Database
from bot.state.feedback import HELPFUL, NOT_HELPFUL, FeedbackStore
from bot.state.migrations import LATEST
from tests.state.answers import stored_answer
from tests.state.databases import schema_steps, state_settings


def test_feedback_round_trips_and_the_schema_is_created_once(db: Database, state_url: str, tmp_path: Path) -> None:
    store = FeedbackStore(db)
    store.record_answer("a1", stored_answer("Which pillars?"), [{"type": "section"}], "U1", "C1", "1.0", "1.0")
    assert store.record_vote("a1", "U1", "C1", HELPFUL)
    assert store.record_vote("a1", "U1", "C1", NOT_HELPFUL)  # a changed vote replaces the first
    assert store.record_correction("a1", "U2", "Three pillars", "us/key-policies.md")
    assert not store.record_vote("nope", "U1", "C1", HELPFUL)
    again = open_database(state_settings(state_url, tmp_path), env={})  # another replica starting
    try:
        report = FeedbackStore(again).report()
        assert (report.answers, report.helpful, report.not_helpful) == (1, 0, 1)
        assert report.corrections[0].right_answer == "Three pillars" and report.corrections[0].user == "U2"
        assert FeedbackStore(again).blocks("a1") == [{"type": "section"}]
        assert FeedbackStore(again).answered_message("C1", "1.0") and FeedbackStore(again).answered_in_thread(
            "C1", "1.0"
        )
        assert schema_steps(again) == list(range(1, LATEST + 1))
    finally:
        again.close()
