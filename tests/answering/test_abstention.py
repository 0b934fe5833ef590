"""Abstaining: off-topic questions, near misses (a country, year or name the sources lack), figures
the sources do not give, and the learned answerability score."""

from __future__ import annotations

import pytest

from bot.answering.abstention import GuardFindings, findings_reason, proper_names
from bot.answering.answerer import Answerer
from bot.answering.evaluation import EvalReport


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
        ("What are Germany's key manufacturing policies?", "no document mentions Germany"),
        ("What does the UK do for advanced manufacturing?", "no document mentions United Kingdom"),
        ("What did the 2016 PCAST report on manufacturing recommend?", "no document mentions 2016"),
        ("What does the CHIPS and Science Act provide?", "no document mentions CHIPS"),
    ],
)
def test_near_misses_abstain_and_say_why(answerer: Answerer, question: str, reason: str) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert reason in answer.reason


@pytest.mark.slow
def test_off_topic_questions_abstain_as_nothing_is_close_and_the_learned_score_answers_the_answerable(
    eval_report: EvalReport, answerer: Answerer
) -> None:
    off_topic = [r for r in eval_report.unanswerable if r.case.kind == "off-topic"]
    assert off_topic and all(r.answer.abstained for r in off_topic)
    assert all(r.best_score < answerer.settings.abstain_below for r in off_topic)
    threshold = answerer.scores.threshold
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
    assert answer.abstained and answer.quotes == ()
    assert answer.citations  # the nearest sources are still shown


def test_a_name_is_checked_whole_and_countries_are_left_to_their_guard() -> None:
    assert proper_names("What does the CHIPS and Science Act provide?") == ["CHIPS", "Science Act"]
    assert proper_names("PCAST and Germany's Made Smarter programme?") == ["PCAST", "Made Smarter"]
    assert proper_names("Which American report came out in 2012?") == []
    assert proper_names("When did Jerónimo de Ayanz visit the Brühl Palace?") == ["Jerónimo", "Ayanz", "Brühl Palace"]


def test_years_and_countries_abstain_only_when_the_passages_mention_none_the_question_names() -> None:
    alone = GuardFindings(years=("2016",), years_named=1)
    assert findings_reason(alone) == "its closest passages say nothing about 2016"
    assert findings_reason(GuardFindings(years=("2016",), years_named=2)) == ""  # "from 2012 to 2016"
    assert findings_reason(GuardFindings(countries=("Japan",), countries_named=2)) == ""  # "Japan and the US"


def test_a_reason_says_no_document_when_the_whole_knowledge_base_lacks_it() -> None:
    findings = GuardFindings(names=("CHIPS", "Science Act"), nowhere=frozenset({"CHIPS", "Science Act"}))
    assert findings_reason(findings) == "no document mentions CHIPS, Science Act"
    assert findings_reason(GuardFindings(names=("PCAST",))) == "its closest passages never mention PCAST"
