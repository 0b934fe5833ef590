"""Claims: say yes once per key, so Slack's retries and duplicate deliveries are answered once.

`RecentKeys` remembers keys in this process; `SharedKeys` keeps them in the state database, so an
event delivered to two replicas is answered by one. What the Slack bot claims, and when, is in
bot/slack/once.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.errors import StateUnavailable
from bot.state.database import Database

log = logging.getLogger(__name__)

PURGE_EVERY = 500  # claims between deletions of expired ones


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
