"""The state database, named by URL: a SQLite file (one process, the default) or PostgreSQL (several replicas).

    sqlite:///var/state.sqlite3  or a plain path        (relative to config.yaml)
    postgresql://policybot@db.internal:5432/policybot   (password: POLICYBOT_DATABASE_URL, PGPASSWORD or ~/.pgpass)

SQL is written once, with `?` placeholders and `"user"` quoted; the two dialects differ only in
the placeholder, an auto-numbered column and the lock migrations take (see bot/state/migrations.py).
Every message names the URL with its password replaced by `***`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from bot.errors import StateDatabaseError, StateUnavailable
from embeddings.vectors.base import redact as redact_uri

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "POLICYBOT_DATABASE_URL"
CONNECT_TIMEOUT = 5  # seconds; an unreachable server fails the start quickly
IDLE_CONNECTIONS = 4  # PostgreSQL connections kept open between requests
SQLITE_BUSY_TIMEOUT = 10.0  # seconds a transaction waits for another writer of the SQLite file, unless told


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed state URL; `repr` and `redacted()` never show the password."""

    dialect: Literal["sqlite", "postgresql"]
    target: str = field(repr=False)  # the file path (SQLite) or the full URL (PostgreSQL)
    password: str = field(default="", repr=False)

    def redacted(self) -> str:
        """The URL as it may appear in logs and messages.

        >>> parse_url("postgresql://bot:s3cret@db:5432/policy", Path(".")).redacted()
        'postgresql://bot:***@db:5432/policy'
        """
        if self.dialect == "sqlite":
            return f"sqlite:///{self.target}"
        return redact(self.target, self.password)

    def scrub(self, text: str) -> str:
        """`text` (e.g. a driver's error message) with the password taken out."""
        return text.replace(self.password, "***") if self.password else text


def redact(url: str, password: str) -> str:
    """`url` with its password shown as *** (in the user:password@ part and anywhere else)."""
    return redact_uri(url).replace(password, "***") if password else url


def parse_url(text: str, base: Path) -> DatabaseURL:
    """`sqlite:///path`, a plain path (both relative to `base`) or `postgresql://...`; anything else is refused."""
    text = text.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            raise StateDatabaseError(f"{redact(text, parts.password or '')}: the port must be a number") from None
        if not parts.hostname and "host=" not in parts.query:
            raise StateDatabaseError(
                f"{redact(text, parts.password or '')}: name the server, e.g. postgresql://user@host/db"
            )
        return DatabaseURL("postgresql", text, unquote(parts.password or ""))
    if scheme == "sqlite":
        if not text.startswith("sqlite:///"):
            raise StateDatabaseError(f"{text}: write sqlite:///relative/path or sqlite:////absolute/path")
        path = text[len("sqlite:///") :]
    elif scheme:
        raise StateDatabaseError(f"{scheme}://...: the state database URL must start with sqlite:/// or postgresql://")
    else:
        path = text
    if not path:
        raise StateDatabaseError("the state database URL names no file")
    resolved = Path(path).expanduser()
    return DatabaseURL("sqlite", str(resolved if resolved.is_absolute() else base / resolved))


class Database:
    """Transactions on the state database; threads share one `Database`.

    SQLite opens a connection per transaction (as the feedback store always did). PostgreSQL keeps
    a few idle connections; one that broke (server restarted, network dropped) is replaced on the
    next request, so the bot recovers by itself once the server is back.
    """

    def __init__(self, url: DatabaseURL, setting: str = "state.url", shared: bool = False) -> None:
        self.url = url
        self.setting = setting  # where the URL came from, named in errors
        self.shared = shared  # set explicitly: replicas may share it, so claims and the index version live here
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        if url.dialect == "postgresql":
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise StateDatabaseError(
                    f"{url.redacted()} needs the PostgreSQL driver: pip install 'policybot[postgres]'"
                ) from None

    @property
    def dialect(self) -> str:
        return self.url.dialect

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL."""
        return Path(self.url.target) if self.url.dialect == "sqlite" else None

    @contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `timeout` bounds each wait for the database in seconds: SQLite's busy timeout (10 s when
        None), PostgreSQL's statement_timeout (none when None). A lost or timed-out PostgreSQL
        raises StateUnavailable; SQLite errors pass through unchanged (a file another writer holds
        longer than the timeout: "database is locked").
        """
        if self.url.dialect == "sqlite":
            with self._sqlite(SQLITE_BUSY_TIMEOUT if timeout is None else timeout) as tx:
                yield tx
        else:
            with self._postgresql() as tx:
                if timeout is not None:
                    tx.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
                yield tx

    @contextmanager
    def _sqlite(self, busy_timeout: float) -> Iterator[Transaction]:
        assert self.path is not None
        db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
        try:
            db.row_factory = _dict_row
            db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(db, "sqlite")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk, for one)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @contextmanager
    def _postgresql(self) -> Iterator[Transaction]:
        import psycopg

        conn = self._checkout()
        try:
            try:
                yield Transaction(conn, "postgresql")
            except BaseException:
                with suppress(psycopg.Error):
                    conn.rollback()
                raise
            conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            with suppress(Exception):
                conn.close()
            raise StateUnavailable(
                f"lost the connection to the state database {self.url.redacted()} ({self._reason(exc)})"
            ) from None
        except BaseException:
            self._checkin(conn)
            raise
        self._checkin(conn)

    def _checkout(self) -> Any:
        """An idle connection that still answers, or a new one."""
        import psycopg

        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self.connect()
            try:
                conn.execute("SELECT 1")
                conn.rollback()
                return conn
            except psycopg.Error:
                with suppress(Exception):
                    conn.close()  # broken while idle (e.g. the server restarted): try the next or a new one

    def _checkin(self, conn: Any) -> None:
        if conn.closed:
            return
        with self._lock:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def connect(self) -> Any:
        """A new PostgreSQL connection, or StateUnavailable naming the URL and the setting to check."""
        import psycopg
        from psycopg.rows import dict_row

        try:
            return psycopg.connect(self.url.target, connect_timeout=CONNECT_TIMEOUT, row_factory=dict_row)
        except psycopg.Error as exc:
            raise StateUnavailable(
                f"cannot reach the state database {self.url.redacted()} ({self._reason(exc)}): check {self.setting}"
            ) from None

    def _reason(self, exc: BaseException) -> str:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        return self.url.scrub(lines[0] if lines else type(exc).__name__)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with suppress(Exception):
                conn.close()


class Transaction:
    """`execute(sql, params)` with `?` placeholders on either database; rows come back as dicts."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        """The driver's cursor: `fetchone()`, `fetchall()` (dicts) and `rowcount`."""
        if self.dialect == "postgresql":
            return self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return self._conn.execute(sql, tuple(params))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def database_url(
    configured: str | None, feedback_db: Path, base: Path, env: Mapping[str, str]
) -> tuple[DatabaseURL, str, bool]:
    """(URL, the setting it came from, whether it was set explicitly).

    POLICYBOT_DATABASE_URL wins over `state.url`; with neither, the state lives in the
    `slack.feedback_db` SQLite file, as the feedback did before.
    """
    if env.get(DATABASE_URL_ENV, "").strip():
        return parse_url(env[DATABASE_URL_ENV], Path.cwd()), DATABASE_URL_ENV, True
    if configured:
        url = parse_url(configured, base)
        if url.password:
            log.warning(
                "state.url holds a password: move it to %s (or PGPASSWORD) to keep it out of config.yaml",
                DATABASE_URL_ENV,
            )
        return url, "state.url in config.yaml (or POLICYBOT_DATABASE_URL)", True
    return DatabaseURL("sqlite", str(feedback_db)), "slack.feedback_db in config.yaml", False
