"""Conversation turns in the state database: a thread's turns are read back in order by any connection
(another replica), a DM outside a thread lapses after its idle time, threads never mix."""

from __future__ import annotations

from pathlib import Path

from bot.answering.followup import Turn
from bot.state.conversations import ConversationKey, ConversationStore, conversation_key
from bot.state.database import Database, parse_url

HTS = "What is Germany's High-Tech Strategy?"
FIRST = Turn(HTS, HTS, ("The HTS ...",), ("HTS",))
SECOND = Turn("When was it adopted?", "When was High-Tech Strategy adopted?", ("first adopted in 2006",), ("HTS",))
ASIDE = Turn("How do I bake bread?", "How do I bake bread?", abstained=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_threads_turns_are_read_back_in_order_by_another_replica(db: Database, state_url: str) -> None:
    thread = ConversationKey("C1", "1700.000100")
    ConversationStore(db, 60).add(thread, FIRST)
    ConversationStore(db, 60).add(thread, SECOND)
    ConversationStore(db, 60).add(thread, ASIDE)
    other = Database(parse_url(state_url, Path(".")), shared=True)  # a second replica's connection
    try:
        assert ConversationStore(other, 60).turns(thread) == [FIRST, SECOND, ASIDE]
    finally:
        other.close()


def test_threads_and_channels_do_not_share_turns(db: Database) -> None:
    store = ConversationStore(db, 60)
    store.add(ConversationKey("C1", "1700.000100"), FIRST)
    assert store.turns(ConversationKey("C1", "1700.000200")) == []
    assert store.turns(ConversationKey("C2", "1700.000100")) == []


def test_a_thread_never_lapses_but_a_dm_outside_a_thread_does(db: Database) -> None:
    clock = Clock()
    store = ConversationStore(db, 30 * 60, clock)
    thread, dm = ConversationKey("D1", "1700.000100"), ConversationKey("D1")
    store.add(thread, FIRST)
    store.add(dm, FIRST)
    clock.now += 20 * 60
    store.add(dm, SECOND)
    clock.now += 20 * 60
    assert store.turns(dm) == [FIRST, SECOND]  # never 30 minutes idle
    clock.now += 11 * 60
    assert store.turns(dm) == []
    store.add(dm, ASIDE)
    assert store.turns(dm) == [ASIDE]  # a new conversation: the turns before the idle gap are gone
    assert store.turns(thread) == [FIRST]


def test_no_idle_time_makes_every_dm_outside_a_thread_stand_alone(db: Database) -> None:
    store = ConversationStore(db, 0)
    store.add(ConversationKey("D1"), FIRST)
    assert store.turns(ConversationKey("D1")) == []


def test_a_message_belongs_to_its_thread_its_dm_or_no_conversation() -> None:
    assert conversation_key("C1", "1700.1") == ConversationKey("C1", "1700.1")
    assert conversation_key("D1", None) == ConversationKey("D1")
    assert conversation_key("C1", None) is None
