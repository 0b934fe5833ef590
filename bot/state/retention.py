"""`state.retention_days`: stored questions and answers are kept that many days, then deleted.

The running bot purges once at start and then every `every` seconds (daily), so no answer, vote
or correction outlives the setting by more than a day. With `retention_days: null` nothing is
deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.state.feedback import FeedbackStore

log = logging.getLogger(__name__)

PURGE_EVERY = 24 * 3600.0  # seconds between purges


def purge_expired(store: FeedbackStore, days: int, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Delete what is older than `days` days; the number of answers deleted (logged when any)."""
    deleted = store.purge(now() - timedelta(days=days))
    if deleted:
        log.warning("deleted %d stored answer(s) older than %d days (state.retention_days)", deleted, days)
    return deleted


class RetentionPurger:
    """A daemon thread running `purge_expired` at start and every `every` seconds until `stop()`."""

    def __init__(self, store: FeedbackStore, days: int, every: float = PURGE_EVERY) -> None:
        self.store, self.days, self.every = store, days, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="policybot-retention", daemon=True)

    def start(self) -> RetentionPurger:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            try:
                purge_expired(self.store, self.days)
            except Exception as exc:  # the database may be away: the next round tries again
                log.warning("purging expired answers failed: %s", exc)
            if self._stop.wait(self.every):
                return
