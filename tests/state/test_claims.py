"""Claims in the state database: an event delivered to two replicas is claimed by exactly one, and a
locked database delays a claim by at most a second."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bot.state.claims import SharedKeys
from bot.state.database import Database, parse_url


def test_an_event_is_claimed_by_exactly_one_of_two_replicas(db: Database, state_url: str) -> None:
    other = Database(parse_url(state_url, Path(".")), shared=True)  # a second connection, as another replica has
    replicas = [SharedKeys(db, "event"), SharedKeys(other, "event")]
    wins: list[str] = []
    lock = threading.Lock()

    def deliver(keys: SharedKeys) -> None:
        for n in range(15):
            if keys.claim(f"Ev{n}"):
                with lock:
                    wins.append(f"Ev{n}")

    threads = [threading.Thread(target=deliver, args=(replicas[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert sorted(wins) == sorted(f"Ev{n}" for n in range(15))  # each event once, none lost


def test_a_claim_waits_at_most_a_second_for_a_locked_database(
    db: Database, state_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    other = Database(parse_url(state_url, Path(".")), shared=True)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer holding the key (PostgreSQL) or the whole file (SQLite)
        with other.transaction() as tx:
            tx.execute("INSERT INTO claims (key, expires) VALUES (?, ?)", ("signature:v0=held", time.time() + 60))
            held.set()
            release.wait(15)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        assert SharedKeys(db, "signature").claim("v0=held")  # answered from this process's memory
        assert time.monotonic() - started < 1.0  # CLAIM_DEADLINE is 0.8 s; Slack gives up after 3
    finally:
        release.set()
        holder.join()
        other.close()
    assert "claiming signature keys in this process only" in caplog.text
