"""Bound a database call in wall-clock time, whatever the driver does (psycopg's connect waits 2 s at least).

Slack wants its acknowledgement within 3 s, so the calls made before one (claims, votes,
corrections) use `within`: the call runs in a helper thread, and the caller stops waiting after
`seconds`. The call itself carries on and finishes (or fails, logged) on its own.

>>> within(1.0, lambda: 42)
42
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from bot.errors import StateUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


class DeadlineExceeded(StateUnavailable):
    """The database did not answer within the time the caller could wait; the call goes on in the background."""


def within(seconds: float, call: Callable[[], T], what: str = "a state database call") -> T:
    """`call()`'s result, or its exception, if it finishes within `seconds`; else DeadlineExceeded."""
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller, or logged when it has stopped waiting
            outcome["error"] = exc
            if done.is_set() and not isinstance(exc, StateUnavailable):
                log.warning("%s failed after its caller stopped waiting: %s", what, exc)
        finally:
            finished.set()

    finished = threading.Event()
    threading.Thread(target=run, name="policybot-db-call", daemon=True).start()
    if not finished.wait(seconds):
        done.set()
        raise DeadlineExceeded(f"{what} did not finish within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
