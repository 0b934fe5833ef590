"""Remember recently handled events, so Slack's retries and duplicate deliveries are answered once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class Claims(Protocol):
    """Anything that says yes once per key: `RecentKeys` in memory, `bot.state.SharedKeys` across replicas."""

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
