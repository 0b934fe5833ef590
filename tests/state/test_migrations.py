"""Schema migrations: a feedback file from before migrations is adopted; a newer schema is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import StateDatabaseError
from bot.state.database import Database
from bot.state.feedback import HELPFUL, FeedbackStore
from bot.state.migrations import LATEST, migrate
from tests.state.databases import schema_steps

# The feedback schema as PolicyBot wrote it before the state database had migrations.
OLD_FEEDBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, created TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    passage_ids TEXT NOT NULL, index_version TEXT NOT NULL, abstained INTEGER NOT NULL,
    user TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT, message_ts TEXT, blocks TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_thread ON answers (channel, thread_ts);
CREATE INDEX IF NOT EXISTS answers_message ON answers (channel, message_ts);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers (id), user TEXT NOT NULL, channel TEXT NOT NULL,
    vote TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (answer_id, user)
);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers (id),
    user TEXT NOT NULL, created TEXT NOT NULL, right_answer TEXT NOT NULL, right_source TEXT NOT NULL
);
"""


def test_an_old_feedback_file_is_migrated_and_its_feedback_still_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "feedback.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as old:
        old.executescript(OLD_FEEDBACK_SCHEMA)
        old.execute(
            "INSERT INTO answers VALUES ('a1', '2026-01-01T00:00:00+00:00', 'What is AMP?', 'A partnership.', "
            "'[]', 'v1', 0, 'U1', 'C1', NULL, '1.1', '[]')"
        )
        old.execute("INSERT INTO votes VALUES ('a1', 'U1', 'C1', 'not_helpful', '2026-01-01T00:00:01+00:00')")
        old.execute(
            "INSERT INTO corrections (answer_id, user, created, right_answer, right_source) "
            "VALUES ('a1', 'U1', '2026-01-01T00:00:02+00:00', 'The Advanced Manufacturing Partnership', '')"
        )
    config = tmp_path / "config.yaml"
    config.write_text("slack:\n  feedback_db: var/feedback.sqlite3\n")
    assert main(["--config", str(config), "feedback", "--export", "-"]) == 0
    out = capsys.readouterr().out
    assert "question: What is AMP?" in out and "expect: The Advanced Manufacturing Partnership" in out
    store = FeedbackStore(path)
    assert schema_steps(store.db) == list(range(1, LATEST + 1))
    assert store.record_vote("a1", "U2", "C1", HELPFUL)  # old rows and new writes live side by side
    report = store.report()
    assert (report.answers, report.helpful, report.not_helpful) == (1, 1, 1)


def test_a_schema_from_a_newer_policybot_is_refused(db: Database) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'later')")
    with pytest.raises(StateDatabaseError, match=r"has schema version 99, this PolicyBot knows up to"):
        migrate(db)
