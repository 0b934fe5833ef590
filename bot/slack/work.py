"""Where the Slack bot's work runs, so that acknowledgements never wait behind answers.

Bolt runs listeners in its own small pool and, for commands, clicks and modal submissions, waits
there for `ack()`: a pool busy with answers (or with calls sleeping on a 429) would let Slack's 3 s
pass. So the listeners only acknowledge and hand their work over to `Work`:

- `answer(job, busy)`: a question, run by at most `workers` threads with at most `queue` more
  waiting; when both are full, `busy()` tells the asker to try again shortly (`BUSY`) at once;
- `reply(job)`: the quick follow-up of a click or a command (a note, a modal, a share, a busy
  notice), in a pool of its own so it never waits behind answers.

>>> work = Work(workers=1, queue=0)
>>> work.answer(lambda: None, busy=lambda: None)
True
>>> work.shutdown()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

BUSY = "PolicyBot is busy answering other questions right now. Please try again shortly."
REPLY_WORKERS = 4  # threads for follow-ups: each is one or two quick Web API calls


class Work:
    """The answer pool (bounded) and the reply pool; see the module docstring."""

    def __init__(self, workers: int = 4, queue: int = 64, reply_workers: int = REPLY_WORKERS) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("workers must be at least 1 and queue at least 0")
        self._answers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="policybot-answer")
        self._replies = ThreadPoolExecutor(max_workers=reply_workers, thread_name_prefix="policybot-reply")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self.capacity = workers + queue

    def answer(self, job: Callable[[], None], busy: Callable[[], None]) -> bool:
        """Run `job` when a worker is free; False (and `busy` run as a reply) when the queue is full."""
        if not self._slots.acquire(blocking=False):
            log.warning("answer queue full (%d questions): told the asker to try again shortly", self.capacity)
            self.reply(busy)
            return False
        try:
            future = self._answers.submit(_logged(job, "an answer"))
        except RuntimeError:  # shutting down
            self._slots.release()
            return False
        future.add_done_callback(self._release)
        return True

    def reply(self, job: Callable[[], None]) -> None:
        """Run `job` soon, in the reply pool."""
        try:
            self._replies.submit(_logged(job, "a reply"))
        except RuntimeError:
            log.info("not replying: shutting down")

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, finish what was taken."""
        self._answers.shutdown(wait=wait)
        self._replies.shutdown(wait=wait)

    def _release(self, _: Future[None]) -> None:
        self._slots.release()


def _logged(job: Callable[[], None], what: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", what)

    return run
