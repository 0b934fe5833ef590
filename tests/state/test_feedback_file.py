"""The SQLite feedback file: private to its owner, named when corrupt, and no stored vote lost on a full disk."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.errors import FeedbackError
from bot.state.feedback import HELPFUL, NOT_HELPFUL, FeedbackStore
from tests.disk_faults import fill
from tests.state.answers import stored_answer


def test_a_full_disk_loses_no_stored_vote_and_the_store_recovers(small_disk: Path) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    for n in range(20):
        store.record_answer(f"a{n}", stored_answer(f"question {n}"), [], "U1", "C1")
        store.record_vote(f"a{n}", "U1", "C1", HELPFUL)
    filler = fill(small_disk)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for n in range(20, 400):  # big answers, until the disk refuses one
            store.record_answer(f"a{n}", stored_answer("x" * 20_000), [{"t": "y" * 20_000}], "U1", "C1")
    failed_at = n
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.record_vote("a0", "U2", "C1", NOT_HELPFUL)  # may or may not fit: the next big write must not
        store.record_answer("big", stored_answer("x" * 200_000), [], "U1", "C1")
    report = store.report()
    assert report.answers == failed_at and report.helpful == 20  # every vote stored before is still there
    assert sqlite3.connect(store.db.path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    filler.unlink()
    assert store.record_vote("a1", "U3", "C1", NOT_HELPFUL)  # space again: writes succeed
    assert store.report().not_helpful >= 1


def test_a_corrupt_feedback_file_is_named_at_start_and_kept_for_inspection(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"garbage, not SQLite" * 200)
    with pytest.raises(FeedbackError, match=r"feedback.sqlite3 is not a readable SQLite database") as raised:
        FeedbackStore(path)
    assert "move it aside" in str(raised.value)
    assert path.read_bytes().startswith(b"garbage")  # nothing overwritten


def test_the_feedback_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "var" / "feedback.sqlite3")
    store.record_answer("a1", stored_answer(), [], "U1", "C1")
    assert oct(os.stat(store.db.path).st_mode & 0o777) == oct(0o600)
    shutil.rmtree(tmp_path / "var")
