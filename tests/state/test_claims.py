"""Claims in the shared state database: an event delivered to two replicas is claimed by exactly one."""

from __future__ import annotations

import threading
from pathlib import Path

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
