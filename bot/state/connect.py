"""Open the state database named by the settings, with its schema brought up to date.

With the default (no `state.url`), one process runs: the `slack.feedback_db` SQLite file holds
feedback and the replay cache of signed requests; event claims stay in memory. With `state.url`
(or POLICYBOT_DATABASE_URL) set, replicas share one database. Every open migrates the schema
here, once; the stores built on a database (`FeedbackStore`, `SharedKeys`) take it as opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config import Settings
from bot.errors import FeedbackError, StateDatabaseError
from bot.state.database import Database, DatabaseURL, database_url
from bot.state.migrations import migrate


def configured_url(settings: Settings, env: Mapping[str, str] | None = None) -> tuple[DatabaseURL, str, bool]:
    """(URL, the setting it came from, whether it was set explicitly); see `bot.state.database.database_url`."""
    base = settings.config_path.resolve().parent if settings.config_path else Path.cwd()
    return database_url(settings.state.url, settings.slack.feedback_db, base, settings.env if env is None else env)


def open_database(settings: Settings, env: Mapping[str, str] | None = None) -> Database:
    """The configured state database, with its schema brought up to date.

    Raises StateUnavailable (server unreachable) or StateDatabaseError (unusable), each one line
    naming the URL without its password and the setting to check.
    """
    return _migrated(*configured_url(settings, env))


def shared_database(settings: Settings, env: Mapping[str, str] | None = None) -> Database | None:
    """The state database when one is configured explicitly (`state.url` or POLICYBOT_DATABASE_URL), else None.

    Without one nothing is opened: a single process keeps index/CURRENT as the truth.
    """
    url, setting, shared = configured_url(settings, env)
    return _migrated(url, setting, shared) if shared else None


def open_feedback_file(path: Path) -> Database:
    """The SQLite file `path` alone (as `slack.feedback_db` names it), with its schema brought up to date.

    Raises FeedbackError, naming the file, when it is not a SQLite database or cannot be created.
    """
    try:
        return _migrated(DatabaseURL("sqlite", str(path)), "slack.feedback_db", False)
    except StateDatabaseError as exc:
        raise FeedbackError(str(exc)) from None


def _migrated(url: DatabaseURL, setting: str, shared: bool) -> Database:
    db = Database(url, setting, shared)
    migrate(db)
    return db
