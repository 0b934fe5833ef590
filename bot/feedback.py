"""Feedback from Slack, kept in SQLite: each posted answer, the votes on it, and users' corrections.

`policybot feedback` reads it back as a report, and exports corrections as candidate entries for
the evaluation set, so feedback improves the bot instead of vanishing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.answer import Answer
from embeddings.errors import PolicyBotError

HELPFUL = "helpful"
NOT_HELPFUL = "not_helpful"
VOTES = (HELPFUL, NOT_HELPFUL)

_SCHEMA = """
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


@dataclass(frozen=True)
class Correction:
    """What a user said the right answer or source would have been."""

    question: str
    answer: str
    right_answer: str
    right_source: str
    user: str
    created: str


@dataclass
class FeedbackReport:
    """Counts, the questions most often voted "Not helpful", and the corrections."""

    answers: int = 0
    helpful: int = 0
    not_helpful: int = 0
    worst: list[tuple[str, int]] = field(default_factory=list)  # (question, "Not helpful" votes)
    corrections: list[Correction] = field(default_factory=list)


class FeedbackError(PolicyBotError):
    """The feedback store cannot be opened (a damaged file, or a folder that cannot be written)."""


class FeedbackStore:
    """A SQLite file; each call opens its own connection, so listener threads can share one store.

    The file is created readable by its owner only (0600): it holds users' questions and ids.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise FeedbackError(
                f"{path} is not a readable SQLite database ({exc}); move it aside (it is left untouched) "
                "and start again to begin a new one, or restore it from a backup"
            ) from None
        except OSError as exc:
            raise FeedbackError(f"cannot create the feedback store {path} ({exc.strerror or exc})") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.row_factory = sqlite3.Row
            yield db

    def record_answer(
        self,
        answer_id: str,
        answer: Answer,
        blocks: Sequence[dict[str, Any]],
        user: str,
        channel: str,
        thread_ts: str | None = None,
        message_ts: str | None = None,
    ) -> None:
        """Keep an answer as posted (question, text, cited passages, index version, blocks) under `answer_id`.

        `thread_ts` is the thread the reply went to, `message_ts` the question's message.
        """
        passage_ids = [c.passage.key for c in answer.citations]
        with self._connect() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    _now(),
                    answer.question,
                    answer.text,
                    json.dumps(passage_ids),
                    answer.index_version,
                    int(answer.abstained),
                    user,
                    channel,
                    thread_ts,
                    message_ts,
                    json.dumps(list(blocks)),
                ),
            )

    def answered_message(self, channel: str, message_ts: str) -> bool:
        """Whether the question in this message has been answered (a retried event must not be answered again)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM answers WHERE channel = ? AND message_ts = ? LIMIT 1", (channel, message_ts)
            ).fetchone()
        return row is not None

    def blocks(self, answer_id: str) -> list[dict[str, Any]] | None:
        """The blocks of a stored answer, or None for an unknown id."""
        with self._connect() as db:
            row = db.execute("SELECT blocks FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return json.loads(row["blocks"]) if row else None

    def question(self, answer_id: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT question FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return row["question"] if row else None

    def answered_in_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot has answered in this thread (so follow-ups there need no mention)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM answers WHERE channel = ? AND thread_ts = ? LIMIT 1", (channel, thread_ts)
            ).fetchone()
        return row is not None

    def record_vote(self, answer_id: str, user: str, channel: str, vote: str) -> bool:
        """Store (or change) `user`'s vote on an answer; False when the answer id is unknown."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, user) "
                "DO UPDATE SET vote = excluded.vote, created = excluded.created",
                (answer_id, user, channel, vote, _now()),
            )
        return True

    def record_correction(self, answer_id: str, user: str, right_answer: str, right_source: str) -> bool:
        """Store what the right answer or source would have been; False when there is nothing to store."""
        right_answer, right_source = right_answer.strip(), right_source.strip()
        if not (right_answer or right_source):
            return False
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO corrections (answer_id, user, created, right_answer, right_source) VALUES (?, ?, ?, ?, ?)",
                (answer_id, user, _now(), right_answer, right_source),
            )
        return True

    def votes(self) -> list[dict[str, Any]]:
        """Every vote with its answer: question, answer, cited passage ids, index version, user, channel, time."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT v.vote, v.user, v.channel, v.created, a.question, a.answer, a.passage_ids, a.index_version "
                "FROM votes v JOIN answers a ON a.id = v.answer_id ORDER BY v.created"
            ).fetchall()
        return [{**dict(r), "passage_ids": json.loads(r["passage_ids"])} for r in rows]

    def report(self, top: int = 10) -> FeedbackReport:
        """The figures `policybot feedback` prints."""
        with self._connect() as db:
            answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            counts = dict(db.execute("SELECT vote, COUNT(*) FROM votes GROUP BY vote").fetchall())
            worst = db.execute(
                "SELECT a.question, COUNT(*) AS n FROM votes v JOIN answers a ON a.id = v.answer_id "
                "WHERE v.vote = ? GROUP BY a.question ORDER BY n DESC, a.question LIMIT ?",
                (NOT_HELPFUL, top),
            ).fetchall()
            corrections = db.execute(
                "SELECT a.question, a.answer, c.right_answer, c.right_source, c.user, c.created "
                "FROM corrections c JOIN answers a ON a.id = c.answer_id ORDER BY c.created"
            ).fetchall()
        return FeedbackReport(
            answers=answers,
            helpful=counts.get(HELPFUL, 0),
            not_helpful=counts.get(NOT_HELPFUL, 0),
            worst=[(r["question"], r["n"]) for r in worst],
            corrections=[Correction(*r) for r in corrections],
        )


def _create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (SQLite gives its journal files the same mode)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def new_answer_id() -> str:
    """A short random id for an answer, carried by its buttons."""
    return uuid.uuid4().hex[:16]


def format_report(report: FeedbackReport) -> str:
    """The report as text for a terminal."""
    lines = [
        f"Answers posted in Slack: {report.answers}",
        f"Votes: {report.helpful} helpful, {report.not_helpful} not helpful",
    ]
    if report.worst:
        lines += ["", "Most often not helpful:"]
        lines += [f"  {n:>3}  {question}" for question, n in report.worst]
    if report.corrections:
        lines += ["", f"Corrections ({len(report.corrections)}):"]
        for c in report.corrections:
            lines.append(f"  Q: {c.question}")
            if c.right_answer:
                lines.append(f"     right answer: {c.right_answer}")
            if c.right_source:
                lines.append(f"     right source: {c.right_source}")
            lines.append(f"     ({c.user}, {c.created})")
    return "\n".join(lines)


def export_candidates(report: FeedbackReport) -> str:
    """Corrections as YAML in the evaluation set's format, for a person to review and merge.

    Each becomes an `answerable` entry whose `expect` is the user's suggestion; trim it to a
    phrase the right passage contains before merging into tests/data/eval.yaml.
    """
    entries = []
    for c in report.corrections:
        entry: dict[str, Any] = {"question": c.question, "expect": c.right_answer or c.right_source}
        if c.right_source and c.right_answer:
            entry["source"] = c.right_source
        entries.append(entry)
    header = (
        "# Candidate evaluation entries from Slack feedback (`policybot feedback --export`).\n"
        "# Review each: make `expect` a phrase the right passage contains, then merge into tests/data/eval.yaml.\n"
    )
    return header + yaml.safe_dump({"answerable": entries}, sort_keys=False, allow_unicode=True, width=100)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
