"""Claims: say yes once per key, so Slack's retries and duplicate deliveries are answered once.

`RecentKeys` remembers keys in this process; `SharedKeys` keeps them in the state database, so an
event delivered to two replicas is answered by one, and a signed request replayed after a restart
is still refused. What the Slack bot claims, and when, is in bot/slack/once.py.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.errors import StateUnavailable
from bot.state.database import Database
from bot.state.deadline import within

log = logging.getLogger(__name__)

PURGE_EVERY = 500  # claims between deletions of expired ones
CLAIM_TIMEOUT = 0.5  # seconds a claim's statement may wait for the database (SQLite's busy timeout, PostgreSQL's)
CLAIM_DEADLINE = 0.8  # seconds a claim waits in all, connecting included: it comes before Slack's 3 s ack
RETRY_SECONDS = 5  # after a failed claim, claims stay in memory this long before the database is tried again


class Claims(Protocol):
    """Anything that says yes once per key: `RecentKeys` in memory, `SharedKeys` across replicas."""

    def claim(self, key: str) -> bool: ...


class RecentKeys:
    """A thread-safe set of keys that forgets them after `ttl` seconds or beyond `size` entries.

    >>> recent = RecentKeys()
    >>> recent.claim("Ev1"), recent.claim("Ev1")
    (True, False)
    """

    def __init__(self, ttl: float = 3600.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        """True the first time `key` is seen (the caller should handle it), False afterwards."""
        now = self._clock()
        with self._lock:
            while self._seen and (len(self._seen) >= self.size or next(iter(self._seen.values())) < now - self.ttl):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


class SharedKeys:
    """`RecentKeys` kept in the database: a key claimed once is refused (to every replica, and after
    a restart) until `ttl`.

    A claim waits at most `CLAIM_DEADLINE` seconds for the database. When it fails (unreachable,
    locked, broken), claims fall back to this process's memory for `RETRY_SECONDS`, logged, so
    questions are still answered promptly; a repeat is let through only during such an outage.
    """

    def __init__(
        self,
        db: Database,
        namespace: str,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
        size: int = 10_000,
    ) -> None:
        self.db = db
        self.namespace = namespace
        self.ttl = ttl
        self._clock = clock
        self._local = RecentKeys(ttl=ttl, size=size)
        self._count = 0
        self._down_until = 0.0  # time.monotonic() before which the database is not tried again
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        """True for the first claim of `key` (the caller should handle it), False for the rest."""
        if time.monotonic() < self._down_until:
            return self._local.claim(key)
        self._count += 1
        purge = self._count % PURGE_EVERY == 1  # the first claim of each process, then every PURGE_EVERY
        try:
            won = within(CLAIM_DEADLINE, lambda: self._claim_in_db(key, purge), f"claiming a {self.namespace} key")
        except (StateUnavailable, sqlite3.Error) as exc:
            with self._lock:  # claims in flight fail together: one line per outage
                first = time.monotonic() >= self._down_until
                self._down_until = time.monotonic() + RETRY_SECONDS
            if first:
                reason = (
                    exc if isinstance(exc, StateUnavailable) else f"the state database {self.db.url.redacted()}: {exc}"
                )
                log.warning(
                    "claiming %s keys in this process only for %d s (a repeat may get a second answer meanwhile): %s",
                    self.namespace,
                    RETRY_SECONDS,
                    reason,
                )
            return self._local.claim(key)
        if won:
            self._local.claim(key)  # so that, should the database go away, this process still knows the key
        return won

    def _claim_in_db(self, key: str, purge: bool) -> bool:
        now = self._clock()
        with self.db.transaction(timeout=CLAIM_TIMEOUT) as tx:
            won = (
                tx.execute(
                    "INSERT INTO claims (key, expires) VALUES (?, ?) ON CONFLICT (key) "
                    "DO UPDATE SET expires = excluded.expires WHERE claims.expires < ?",
                    (f"{self.namespace}:{key}", now + self.ttl, now),
                ).rowcount
                == 1
            )
            if purge:
                tx.execute("DELETE FROM claims WHERE expires < ?", (now,))
        return bool(won)
