"""Settings naming a state database, and the schema steps a database has applied."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings, StateConfig
from bot.state.database import Database


def state_settings(url: str, tmp_path: Path) -> Settings:
    """Settings whose state database is `url`, keeping pending writes in `tmp_path`."""
    return Settings(state=StateConfig(url=url, pending_file=tmp_path / "pending.jsonl"), config_path=None)


def schema_steps(db: Database) -> list[int]:
    """The migration steps recorded in `schema_migrations`, in order."""
    with db.transaction() as tx:
        return [r["version"] for r in tx.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
