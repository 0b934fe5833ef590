"""Feedback from Slack, in the state database: each posted answer, the votes on it, and users' corrections.

`policybot feedback` reads it back as a report, and exports corrections as candidate entries for
the evaluation set, so feedback improves the bot instead of vanishing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.answering.answer import Answer
from bot.config import Settings
from bot.errors import StateUnavailable
from bot.state.connect import open_feedback_file
from bot.state.database import Database, Transaction
from bot.state.deadline import DeadlineExceeded, within
from bot.state.pending import PendingWrites

log = logging.getLogger(__name__)

HELPFUL = "helpful"
NOT_HELPFUL = "not_helpful"
VOTES = (HELPFUL, NOT_HELPFUL)
ANY_EVAL_SET = "the evaluation set"  # what the export names when config.yaml names none


@dataclass(frozen=True)
class Correction:
    """What a user said the right answer or source would have been."""

    question: str
    answer: str
    right_answer: str
    right_source: str
    user: str
    created: str
    interpreted: str = ""  # the question the answer answered, when a follow-up was rewritten ("" = as asked)

    @property
    def read_as(self) -> str:
        """The question the answer answered: a follow-up as rewritten in its conversation."""
        return self.interpreted or self.question


@dataclass
class FeedbackReport:
    """Counts, the questions most often voted "Not helpful", and the corrections."""

    answers: int = 0
    helpful: int = 0
    not_helpful: int = 0
    worst: list[tuple[str, int]] = field(default_factory=list)  # (question as read, "Not helpful" votes)
    corrections: list[Correction] = field(default_factory=list)


FLUSH_RETRY_SECONDS = 5.0
WRITE_TIMEOUT = 0.6  # seconds a vote's or correction's statement may wait for the database (busy/statement timeout)
WRITE_DEADLINE = 0.9  # seconds a vote or correction waits in all, connecting included: Slack wants its ack within 3


class FeedbackStore:
    """Answers, votes and corrections in the state database; listener threads share one store.

    `db` is a database `bot.state.connect` opened (its schema up to date); given a path, that
    SQLite file is opened so, readable by its owner only (0600): it holds users' questions and ids.
    Given `pending`, writes that cannot reach a lost PostgreSQL are kept in that file and written,
    in order, as soon as the database answers again. A vote or correction waits at most
    `write_deadline` seconds for the database, so the user can be told in time when it was not saved;
    past it, it is kept in the pending file (durable before this returns), or without one
    `DeadlineExceeded` is raised. Either way the write also goes on in the background; a kept write
    that got through too is harmless when replayed.
    """

    def __init__(
        self,
        db: Database | Path,
        pending: PendingWrites | None = None,
        write_timeout: float = WRITE_TIMEOUT,
        write_deadline: float = WRITE_DEADLINE,
    ) -> None:
        self.db = open_feedback_file(db) if isinstance(db, Path) else db
        self.pending = pending
        self.write_timeout = write_timeout
        self.write_deadline = write_deadline
        self._flusher: threading.Thread | None = None
        self._flusher_lock = threading.Lock()
        if pending is not None and pending.has_entries():
            self._start_flusher()

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

        `thread_ts` is the thread the reply went to, `message_ts` the question's message. A follow-up's
        rewrite (`Answer.interpreted_question`) is kept beside it: a vote judges the answer to the rewrite.
        """
        passage_ids = [c.passage.key for c in answer.citations]
        row = [
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
            answer.interpreted_question,
        ]
        self._write("answer", row)

    def answered_message(self, channel: str, message_ts: str, timeout: float | None = None) -> bool:
        """Whether the question in this message has been answered (a retried event must not be answered again)."""
        with self.db.transaction(timeout) as tx:
            row = tx.execute(
                "SELECT 1 AS found FROM answers WHERE channel = ? AND message_ts = ? LIMIT 1", (channel, message_ts)
            ).fetchone()
        return row is not None

    def blocks(self, answer_id: str) -> list[dict[str, Any]] | None:
        """The blocks of a stored answer, or None for an unknown id."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT blocks FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return json.loads(row["blocks"]) if row else None

    def question(self, answer_id: str) -> str | None:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT question FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return row["question"] if row else None

    def answered_in_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot has answered in this thread (so follow-ups there need no mention)."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT 1 AS found FROM answers WHERE channel = ? AND thread_ts = ? LIMIT 1", (channel, thread_ts)
            ).fetchone()
        return row is not None

    def record_vote(self, answer_id: str, user: str, channel: str, vote: str) -> bool:
        """Store (or change) `user`'s vote on an answer; False when the answer id is unknown.

        On return the vote is committed (or kept in the pending file, fsynced): it survives a kill.
        """
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
        return self._write_within("vote", [answer_id, user, channel, vote, _now()])

    def record_correction(self, answer_id: str, user: str, right_answer: str, right_source: str) -> bool:
        """Store what the right answer or source would have been; False when there is nothing to store."""
        right_answer, right_source = right_answer.strip(), right_source.strip()
        if not (right_answer or right_source):
            return False
        return self._write_within("correction", [answer_id, user, _now(), right_answer, right_source])

    def report(self, top: int = 10) -> FeedbackReport:
        """The figures `policybot feedback` prints."""
        with self.db.transaction() as tx:
            answers = tx.execute("SELECT COUNT(*) AS n FROM answers").fetchone()["n"]
            counts = {
                r["vote"]: r["n"] for r in tx.execute("SELECT vote, COUNT(*) AS n FROM votes GROUP BY vote").fetchall()
            }
            worst = tx.execute(
                f"SELECT {_READ_AS} AS question, COUNT(*) AS n FROM votes v JOIN answers a ON a.id = v.answer_id "
                f"WHERE v.vote = ? GROUP BY {_READ_AS} ORDER BY n DESC, {_READ_AS} LIMIT ?",
                (NOT_HELPFUL, top),
            ).fetchall()
            corrections = tx.execute(
                'SELECT a.question, a.answer, c.right_answer, c.right_source, c."user", c.created, a.interpreted '
                "FROM corrections c JOIN answers a ON a.id = c.answer_id ORDER BY c.created, c.id"
            ).fetchall()
        return FeedbackReport(
            answers=answers,
            helpful=counts.get(HELPFUL, 0),
            not_helpful=counts.get(NOT_HELPFUL, 0),
            worst=[(r["question"], r["n"]) for r in worst],
            corrections=[
                Correction(
                    r["question"],
                    r["answer"],
                    r["right_answer"],
                    r["right_source"],
                    r["user"],
                    r["created"],
                    r["interpreted"],
                )
                for r in corrections
            ],
        )

    def purge(self, before: datetime) -> int:
        """Delete the answers stored before `before`, with their votes and corrections; how many answers went."""
        cutoff = before.astimezone(UTC).isoformat(timespec="seconds")
        old = "SELECT id FROM answers WHERE created < ?"
        with self.db.transaction() as tx:
            tx.execute(f"DELETE FROM votes WHERE answer_id IN ({old})", (cutoff,))
            tx.execute(f"DELETE FROM corrections WHERE answer_id IN ({old})", (cutoff,))
            return int(tx.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount)

    def flush(self) -> int:
        """Write the feedback kept while the database was unreachable; the number of writes replayed.

        Raises StateUnavailable while it still is (nothing is lost: the file keeps every entry).
        """
        if self.pending is None or not self.pending.has_entries():
            return 0

        def apply(entries: list[tuple[str, list[Any]]]) -> None:
            with self.db.transaction() as tx:
                for operation, args in entries:
                    if not _WRITES[operation](tx, args, True):
                        log.warning("dropped a kept %s for an answer the database does not hold", operation)

        done = self.pending.replay(apply)
        if done:
            log.warning("wrote %d kept feedback write(s) to the state database %s", done, self.db.url.redacted())
        return done

    def _write_within(self, operation: str, args: list[Any]) -> bool:
        """A user's write, stored or kept durably within `write_deadline` seconds, else DeadlineExceeded."""
        try:
            return within(
                self.write_deadline, lambda: self._write(operation, args, self.write_timeout), f"storing a {operation}"
            )
        except DeadlineExceeded:
            if self.pending is None:
                raise
            self.pending.add(operation, args)  # durable before the user is thanked, whatever the database does
            log.warning("%s kept in %s: the database did not answer in time", operation, self.pending.path)
            self._start_flusher()
            return True

    def _write(self, operation: str, args: list[Any], timeout: float | None = None) -> bool:
        try:
            self.flush()  # older kept writes go first, so a vote never lands before its answer
            with self.db.transaction(timeout) as tx:
                return _WRITES[operation](tx, args, False)
        except StateUnavailable as exc:
            if self.pending is None:
                raise
            try:
                self.pending.add(operation, args)
            except OSError as full:
                log.error("feedback cannot be kept either (%s): %s", full, exc)
                raise exc from None
            log.warning("%s kept in %s until the database answers: %s", operation, self.pending.path, exc)
            self._start_flusher()
            return True

    def _start_flusher(self) -> None:
        """Retry the kept writes every few seconds until they are all in the database."""
        with self._flusher_lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._flusher = threading.Thread(target=self._flush_until_done, name="feedback-flush", daemon=True)
            self._flusher.start()

    def _flush_until_done(self) -> None:
        while self.pending is not None and self.pending.has_entries():
            try:
                self.flush()
            except StateUnavailable:
                pass
            except Exception:  # a bad entry must not stop the retries silently
                log.exception("writing kept feedback failed")
            if self.pending.has_entries():
                time.sleep(FLUSH_RETRY_SECONDS)


def _answer_exists(tx: Transaction, answer_id: str) -> bool:
    return tx.execute("SELECT 1 AS found FROM answers WHERE id = ?", (answer_id,)).fetchone() is not None


_ANSWER_COLUMNS = (
    'id, created, question, answer, passage_ids, index_version, abstained, "user", channel, thread_ts, message_ts, '
    "blocks, interpreted"
)
_ANSWER_WIDTH = len(_ANSWER_COLUMNS.split(","))
_READ_AS = "COALESCE(NULLIF(a.interpreted, ''), a.question)"  # the question an answer answered


def _write_answer(tx: Transaction, row: list[Any], replay: bool) -> bool:
    conflict = " ON CONFLICT (id) DO NOTHING" if replay else ""  # a replay may repeat a write that got through
    row = [*row, ""][:_ANSWER_WIDTH]  # a pending file kept by an older PolicyBot has no `interpreted`
    tx.execute(f"INSERT INTO answers ({_ANSWER_COLUMNS}) VALUES ({', '.join('?' * _ANSWER_WIDTH)}){conflict}", row)
    return True


def _write_vote(tx: Transaction, args: list[Any], replay: bool) -> bool:
    if not _answer_exists(tx, args[0]):
        return False
    tx.execute(  # an older vote replayed after a newer one got through does not undo it
        'INSERT INTO votes VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, "user") '
        "DO UPDATE SET vote = excluded.vote, created = excluded.created WHERE votes.created <= excluded.created",
        args,
    )
    return True


def _write_correction(tx: Transaction, args: list[Any], replay: bool) -> bool:
    if not _answer_exists(tx, args[0]):
        return False
    if replay and _correction_exists(tx, args):  # kept, and written by the attempt that ran late too
        return True
    tx.execute(
        'INSERT INTO corrections (answer_id, "user", created, right_answer, right_source) VALUES (?, ?, ?, ?, ?)',
        args,
    )
    return True


def _correction_exists(tx: Transaction, args: list[Any]) -> bool:
    found = tx.execute(
        'SELECT 1 AS found FROM corrections WHERE answer_id = ? AND "user" = ? AND created = ? AND right_answer = ? '
        "AND right_source = ?",
        args,
    ).fetchone()
    return found is not None


_WRITES: dict[str, Callable[[Transaction, list[Any], bool], bool]] = {
    "answer": _write_answer,
    "vote": _write_vote,
    "correction": _write_correction,
}


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
            if c.interpreted:
                lines.append(f"     read as: {c.interpreted}")
            if c.right_answer:
                lines.append(f"     right answer: {c.right_answer}")
            if c.right_source:
                lines.append(f"     right source: {c.right_source}")
            lines.append(f"     ({c.user}, {c.created})")
    return "\n".join(lines)


def export_candidates(report: FeedbackReport, eval_set: str = ANY_EVAL_SET) -> str:
    """Corrections as YAML in the evaluation set's format, for a person to review and merge into `eval_set`.

    Each becomes an `answerable` entry whose `expect` is the user's suggestion; trim it to a
    phrase the right passage contains before merging (`eval_set_name` says which set). A follow-up
    ("And the 2012 one?") enters as the question it was read as, which stands on its own.
    """
    entries = []
    for c in report.corrections:
        entry: dict[str, Any] = {"question": c.read_as, "expect": c.right_answer or c.right_source}
        if c.right_source and c.right_answer:
            entry["source"] = c.right_source
        entries.append(entry)
    header = (
        "# Candidate evaluation entries from Slack feedback (`policybot feedback --export`).\n"
        f"# Review each: make `expect` a phrase the right passage contains, then merge into {eval_set}.\n"
    )
    return header + yaml.safe_dump({"answerable": entries}, sort_keys=False, allow_unicode=True, width=100)


def eval_set_name(settings: Settings) -> str:
    """The evaluation set corrections are merged into, as config.yaml names it: `indexing.gate_eval_set`.

    Shown relative to config.yaml's folder (tests/data/eval.yaml with the shipped config), or
    "the evaluation set" when no set is configured.
    """
    path = settings.indexing.gate_eval_set
    if path is None:
        return ANY_EVAL_SET
    base = settings.config_path.resolve().parent if settings.config_path else Path.cwd()
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
