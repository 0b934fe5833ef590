"""Abstaining: off-topic questions, near misses (a country, year or name the sources lack), figures
the sources do not give, and the learned answerability score."""

from __future__ import annotations

import pytest

from bot.answering.abstention import unknown_names, unsupported_country, unsupported_year
from bot.answering.answerer import Answerer
from bot.answering.evaluation import EvalReport
from embeddings.passage import Passage


@pytest.mark.slow
def test_off_topic_question_abstains_and_shows_nearest_sources(answerer: Answerer) -> None:
    answer = answerer.ask("How do I bake sourdough bread?")
    assert answer.abstained
    assert answer.quotes == ()
    assert "does not cover" in answer.text
    assert 1 <= len(answer.citations) <= 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What are Germany's key manufacturing policies?", "no documents about Germany"),
        ("What did the 2016 PCAST report on manufacturing recommend?", "nothing about 2016"),
        ("What does the CHIPS and Science Act provide?", "no document mentions CHIPS"),
    ],
)
def test_near_misses_abstain_and_say_why(answerer: Answerer, question: str, reason: str) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert reason in answer.reason


@pytest.mark.slow
def test_the_learned_score_alone_refuses_off_topic_questions_and_answers_the_answerable_ones(
    eval_report: EvalReport, answerer: Answerer
) -> None:
    threshold = answerer.scores.threshold
    off_topic = [r for r in eval_report.unanswerable if r.case.kind == "off-topic"]
    assert off_topic and all(r.answerability < threshold for r in off_topic)
    assert [r.case.question for r in eval_report.answerable if r.answerability < threshold] == []
    assert eval_report.auc() > 0.9


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "How much money did the 2012 plan allocate to advanced manufacturing?",
        "What percentage of US GDP does manufacturing account for?",
    ],
)
def test_a_figure_no_candidate_sentence_holds_is_not_made_up(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert "do not give" in answer.reason or "do not seem to answer" in answer.reason
    assert answer.citations  # the nearest sources are still shown


def test_a_name_no_document_mentions_is_reported_whole() -> None:
    vocabulary = frozenset({"what", "does", "the", "science", "act", "provide", "pcast"})
    assert unknown_names("What does the CHIPS and Science Act provide?", vocabulary) == ["CHIPS"]
    assert unknown_names("What does PCAST provide?", vocabulary) == []


def test_a_year_none_of_the_passages_mention_is_reported() -> None:
    passage = Passage(
        id=0, key="d#0", doc="d", title="Plan", section=(), text="Issued in 2012.", source="d", position=0
    )
    assert unsupported_year("What did the 2016 report say?", [passage]) == "2016"
    assert unsupported_year("What did the 2012 report say?", [passage]) is None


def test_a_country_without_documents_is_named_as_people_know_it() -> None:
    assert unsupported_country("What does the UK do?", ["United States"]) == "United Kingdom"
    assert unsupported_country("What does America do?", ["United States"]) is None
