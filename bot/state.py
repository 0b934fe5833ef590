"""State several bot replicas share through the database: event claims and the published index version.

With the default (no `state.url`), one process runs: claims stay in memory and `index/CURRENT`
says which index is served. With `state.url` (or POLICYBOT_DATABASE_URL) set, every replica
claims each Slack event in the database, so an event delivered to two replicas is answered
once, and all follow the version `policybot index` recorded there.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.database import Database, DatabaseURL, StateUnavailable, database_url
from bot.migrations import migrate
from bot.slack.dedupe import RecentKeys

log = logging.getLogger(__name__)

INDEX_VERSION = "index_version"
PURGE_EVERY = 500  # claims between deletions of expired ones


def configured_url(settings: Settings, env: Mapping[str, str] = os.environ) -> tuple[DatabaseURL, str, bool]:
    """(URL, the setting it came from, whether it was set explicitly); see `bot.database.database_url`."""
    base = settings.config_path.resolve().parent if settings.config_path else Path.cwd()
    return database_url(settings.state.url, settings.slack.feedback_db, base, env)


def open_database(settings: Settings, env: Mapping[str, str] = os.environ) -> Database:
    """The configured state database, with its schema brought up to date.

    Raises StateUnavailable (server unreachable) or StateDatabaseError (unusable), each one line
    naming the URL without its password and the setting to check.
    """
    return _migrated(*configured_url(settings, env))


def shared_database(settings: Settings, env: Mapping[str, str] = os.environ) -> Database | None:
    """The state database when one is configured explicitly (`state.url` or POLICYBOT_DATABASE_URL), else None.

    Without one nothing is opened: a single process keeps index/CURRENT as the truth.
    """
    url, setting, shared = configured_url(settings, env)
    return _migrated(url, setting, shared) if shared else None


def _migrated(url: DatabaseURL, setting: str, shared: bool) -> Database:
    db = Database(url, setting, shared)
    migrate(db)
    return db


class SharedKeys:
    """`RecentKeys` kept in the database: a key claimed by one replica is refused to every other until `ttl`.

    While the database is unreachable, claims fall back to this process's memory (logged), so
    questions are still answered; a duplicate across replicas is possible only during the outage.
    """

    def __init__(
        self, db: Database, namespace: str, ttl: float = 3600.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.namespace = namespace
        self.ttl = ttl
        self._clock = clock
        self._local = RecentKeys(ttl=ttl)
        self._count = 0

    def claim(self, key: str) -> bool:
        """True for the first replica to claim `key` (it should handle the event), False for the rest."""
        now = self._clock()
        self._count += 1
        try:
            with self.db.transaction() as tx:
                won = (
                    tx.execute(
                        "INSERT INTO claims (key, expires) VALUES (?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET expires = excluded.expires WHERE claims.expires < ?",
                        (f"{self.namespace}:{key}", now + self.ttl, now),
                    ).rowcount
                    == 1
                )
                if self._count % PURGE_EVERY == 0:
                    tx.execute("DELETE FROM claims WHERE expires < ?", (now,))
        except StateUnavailable as exc:
            log.warning("claiming in this process only: %s", exc)
            return self._local.claim(key)
        return won


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
