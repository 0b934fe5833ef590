"""The index version replicas serve, recorded in the shared state database by `policybot index`."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.state.database import Database

INDEX_VERSION = "index_version"


def published_version(db: Database) -> str | None:
    """The index version `policybot index` last recorded, or None when none was."""
    with db.transaction() as tx:
        row = tx.execute("SELECT value FROM shared_values WHERE name = ?", (INDEX_VERSION,)).fetchone()
    return row["value"] if row else None


def record_published_version(db: Database, version: str) -> None:
    """Tell every replica following the database to serve `version`."""
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO shared_values (name, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (INDEX_VERSION, version, datetime.now(UTC).isoformat(timespec="seconds")),
        )
