"""The index version replicas serve, recorded in the shared state database by `policybot index`."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Settings
from bot.errors import StateUnavailable
from bot.state.connect import shared_database
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


def tell_replicas(settings: Settings, version: str) -> str | None:
    """Record `version` for replicas sharing a state database (`state.url`); the line saying so,
    or None when no database is shared (index/CURRENT alone decides)."""
    try:
        db = shared_database(settings)
        if db is None:
            return None
        try:
            record_published_version(db, version)
        finally:
            db.close()
    except StateUnavailable as exc:
        raise StateUnavailable(
            f"{exc}; index {version} is published in {settings.index_dir}/CURRENT, but replicas keep serving "
            "the one before until `policybot index` can record it"
        ) from None
    return f"replicas sharing {db.url.redacted()} now serve index {version}"
