"""Answers from the shipped knowledge with the real model and FAISS: cited, verbatim, checked questions."""

from __future__ import annotations

import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import EvalReport
from bot.errors import QuestionError

pytestmark = pytest.mark.slow


def test_answer_cites_the_passage_it_quotes(answerer: Answerer) -> None:
    answer = answerer.ask("What pillars do the AMP recommendations rest on?")
    assert not answer.abstained
    assert "three pillars" in answer.text
    first = answer.citations[0].passage
    assert "three pillars" in first.text
    assert first.source.startswith("https://www.manufacturing-policy.eng.cam.ac.uk/")
    assert "Capturing Domestic Competitive Advantage" in first.section_label
    assert "[1]" in answer.text


def test_every_quoted_sentence_is_verbatim_from_its_cited_passage(eval_report: EvalReport) -> None:
    answered = [r.answer for r in eval_report.results if not r.answer.abstained]
    assert len(answered) >= 25
    for answer in answered:
        by_number = {c.number: c.passage for c in answer.citations}
        for quote in answer.quotes:
            cited = by_number[quote.citation]
            assert quote.text in (cited.section if quote.heading else cited.text), (answer.question, quote.text)
        # and the rendered text is made of nothing but those quotes, their markers, and the
        # parentheses that set a referent after the sentence that leans on it
        rebuilt = answer.text
        for quote in answer.quotes:
            rebuilt = rebuilt.replace(f"{quote.text} [{quote.citation}]", "", 1)
        assert set(rebuilt.replace("(context:", " ").split()) <= {"-", ")"}, answer.question


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_gets_a_usage_hint(answerer: Answerer, question: str) -> None:
    with pytest.raises(QuestionError, match="Ask a question"):
        answerer.ask(question)


def test_a_100kb_question_is_refused_with_the_limit(answerer: Answerer) -> None:
    question = "What does the plan say about skills? " * 2800
    assert len(question) > 100_000
    with pytest.raises(QuestionError, match="characters long; the limit is 2,000"):
        answerer.ask(question)


def test_answers_record_the_index_version_they_came_from(answerer: Answerer) -> None:
    answer = answerer.ask("What is PCAST?")
    assert answer.index_version == answerer.retriever.index.version
    assert len(answer.index_version) == 12


def test_a_lone_surrogate_from_slack_json_is_replaced_and_the_question_answered(answerer: Answerer) -> None:
    answer = answerer.ask("Who commissioned the key \ud800reports on advanced manufacturing?")  # JSON "\ud800"
    assert answer.question == "Who commissioned the key \ufffdreports on advanced manufacturing?"
    assert not answer.abstained and "President Obama" in answer.text
