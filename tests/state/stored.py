"""What the state database holds, read with SQL: tests check what was stored, whatever reads it back."""

from __future__ import annotations

import json
from typing import Any

from bot.state.database import Database


def stored_votes(db: Database) -> list[dict[str, Any]]:
    """Every vote with its answer: question (and `interpreted`, a follow-up's rewrite), answer, cited passage ids,
    index version, user, channel, time."""
    with db.transaction() as tx:
        rows = tx.execute(
            'SELECT v.vote, v."user", v.channel, v.created, a.question, a.interpreted, a.answer, a.passage_ids, '
            "a.index_version "
            "FROM votes v JOIN answers a ON a.id = v.answer_id ORDER BY v.created"
        ).fetchall()
    return [{**r, "passage_ids": json.loads(r["passage_ids"])} for r in rows]
