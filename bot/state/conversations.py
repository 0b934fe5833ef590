"""The turns of Slack conversations, in the state database: every replica, and a restarted bot,
reads a thread's follow-ups in the context of the whole thread.

A thread is one conversation. A direct message outside a thread continues the DM's conversation
unless `slack.dm_idle_minutes` passed since its last turn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.answering.followup import MAX_TURNS, Turn
from bot.state.database import Database

DM = ""  # the thread_ts stored for a direct message outside a thread


@dataclass(frozen=True)
class ConversationKey:
    """Where a conversation happens: a channel and a thread (DM = a direct message outside a thread)."""

    channel: str
    thread_ts: str = DM

    @property
    def lapses(self) -> bool:
        """A DM outside a thread lapses after an idle time; a thread never does."""
        return self.thread_ts == DM


def conversation_key(channel: str, thread_ts: str | None) -> ConversationKey | None:
    """The conversation a message belongs to: its thread, the DM, or None (a channel message outside a thread)."""
    if thread_ts:
        return ConversationKey(channel, thread_ts)
    return ConversationKey(channel) if channel.startswith("D") else None


class ConversationStore:
    """Reads and appends the turns of conversations; listener threads share one store."""

    def __init__(self, db: Database, dm_idle_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.dm_idle_seconds = dm_idle_seconds
        self.clock = clock

    def turns(self, key: ConversationKey) -> list[Turn]:
        """The latest turns of the conversation, oldest first (at most what the follow-up reader reads)."""
        if key.lapses and self.dm_idle_seconds <= 0:
            return []
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT created, question, interpreted, sections, cited, abstained FROM conversation_turns "
                "WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT ?",
                (key.channel, key.thread_ts, MAX_TURNS),
            ).fetchall()
        kept = []
        later = self.clock()
        for row in rows:  # newest first: a DM's conversation ends at the first idle gap
            if key.lapses and later - row["created"] > self.dm_idle_seconds:
                break
            kept.append(_turn(row))
            later = row["created"]
        return kept[::-1]

    def add(self, key: ConversationKey, turn: Turn) -> None:
        """Append a turn to the conversation."""
        row = (
            key.channel,
            key.thread_ts,
            self.clock(),
            turn.question,
            turn.interpreted,
            json.dumps(list(turn.sections)),
            json.dumps(list(turn.cited)),
            int(turn.abstained),
        )
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO conversation_turns (channel, thread_ts, created, question, interpreted, sections, cited, "
                "abstained) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )


def _turn(row: dict[str, object]) -> Turn:
    return Turn(
        str(row["question"]),
        str(row["interpreted"]),
        tuple(json.loads(str(row["cited"]))),
        tuple(json.loads(str(row["sections"]))),
        bool(row["abstained"]),
    )
