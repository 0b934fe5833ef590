"""The real answerer over a conversation: a follow-up asking its topic for something no passage gives abstains."""

from __future__ import annotations

import pytest

from bot.answering.answerer import Answerer
from bot.answering.followup import turn_of

PLAN = "What are the five objectives of the 2012 National Strategic Plan for Advanced Manufacturing?"


@pytest.mark.slow
def test_a_follow_up_asking_for_what_no_cited_passage_gives_abstains(answerer: Answerer) -> None:
    history = [turn_of(answerer.ask(PLAN))]
    answer = answerer.ask("How many jobs did it create?", history=history)
    assert answer.abstained
    assert '"jobs"' in answer.text
    assert answer.reading_note.startswith("Reading this as: How many jobs did")


@pytest.mark.slow
def test_a_follow_up_whose_asked_thing_is_cited_is_still_answered(answerer: Answerer) -> None:
    history = [turn_of(answerer.ask(PLAN))]
    answer = answerer.ask("Which of its objectives is about procurement?", history=history)
    assert not answer.abstained
    assert "five objectives" in answer.text
