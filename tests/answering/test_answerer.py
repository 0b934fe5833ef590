"""Answers from the shipped knowledge with the real model and FAISS: cited, verbatim, or abstaining."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.answerer import Answerer, QuestionError
from bot.answering.evaluation import EvalReport, evaluate, load_eval_set
from bot.config import Settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.conftest import EVAL_SET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def eval_report(answerer: Answerer) -> EvalReport:
    return evaluate(answerer, load_eval_set(EVAL_SET))


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
        # and the rendered text is made of nothing but those quotes and their markers
        rebuilt = answer.text
        for quote in answer.quotes:
            rebuilt = rebuilt.replace(f"{quote.text} [{quote.citation}]", "", 1)
        assert rebuilt.replace("-", "").split() == [], answer.question


def test_evaluation_set_reaches_the_targets(eval_report: EvalReport) -> None:
    _, _, answerable_abstained, _ = eval_report.abstention()
    assert len(eval_report.answerable) >= 25 and len(eval_report.unanswerable) >= 10
    assert eval_report.hit_at_1() >= 0.9
    assert all(r.answer.abstained for r in eval_report.unanswerable if r.case.kind == "off-topic")
    assert answerable_abstained <= 1


def test_a_question_asking_for_the_whole_list_gets_every_item_cited(answerer: Answerer) -> None:
    answer = answerer.ask("What are the five objectives of the 2012 National Strategic Plan?")
    items = [q for q in answer.quotes if q.list_item]
    assert len(items) == 5
    assert items[0].text.startswith("Accelerate investment")
    assert items[-1].text.startswith("Increase total U.S. public and private investments")
    assert len({q.citation for q in items}) == 5
    assert answer.quotes[0].text.endswith("five objectives:")


def test_a_question_about_one_list_item_gets_that_item_not_the_whole_list(answerer: Answerer) -> None:
    answer = answerer.ask("What does the strategic plan say about federal procurement?")
    assert "early procurement" in answer.quotes[0].text
    assert not any("portfolio perspective" in q.text for q in answer.quotes), answer.text


def test_a_sentence_introducing_the_sections_below_it_comes_with_their_headings(answerer: Answerer) -> None:
    answer = answerer.ask("Which PCAST report came out in 2012?")
    lead = next(i for i, q in enumerate(answer.quotes) if q.text.endswith("underpin the national strategic plan:"))
    headings = [q for q in answer.quotes[lead + 1 :] if q.heading]
    assert [q.text for q in headings][:2] == [
        "Ensuring American Leadership in Advanced Manufacturing (PCAST, 2011)",
        "Capturing Domestic Competitive Advantage in Advanced Manufacturing (PCAST, 2012)",
    ]
    cited = {c.number: c.passage for c in answer.citations}
    assert all(q.text in cited[q.citation].section for q in headings)  # each cites a passage under it


def test_a_supporting_passage_adds_sentences_not_an_outline(answerer: Answerer) -> None:
    answer = answerer.ask("Did PCAST suggest changing tax policy?")  # the introduction, 2nd, ends "... plan:"
    assert "reform of tax policies" in answer.quotes[0].text
    assert not any(q.heading or q.text.endswith(":") for q in answer.quotes), answer.text


def test_no_quote_ends_with_a_colon_that_introduces_nothing(eval_report: EvalReport) -> None:
    for result in eval_report.results:
        quotes = result.answer.quotes
        for i, quote in enumerate(quotes):
            if quote.text.endswith(":"):
                assert i + 1 < len(quotes) and quotes[i + 1].list_item, (result.case.question, quote.text)


def test_off_topic_question_abstains_and_shows_nearest_sources(answerer: Answerer) -> None:
    answer = answerer.ask("How do I bake sourdough bread?")
    assert answer.abstained
    assert answer.quotes == ()
    assert "does not cover" in answer.text
    assert 1 <= len(answer.citations) <= 3


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


def test_key_term_coverage_catches_near_misses_the_dense_score_lets_through(
    eval_report: EvalReport, answerer: Answerer
) -> None:
    settings = answerer.settings
    threshold, support = settings.abstain_below, (settings.support_below, settings.min_term_coverage)
    _, dense_recall, _, _ = eval_report.abstention(threshold, None, guards=False)
    _, both_recall, wrongly_abstained, _ = eval_report.abstention(threshold, support, guards=False)
    assert both_recall > dense_recall
    assert wrongly_abstained == 0


def test_a_quote_opening_with_it_brings_the_end_of_the_paragraph_it_continues(
    tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "catapults.md").write_text(
        "---\ncountry: United Kingdom\n---\n# Catapults\n\n## The network\n\n"
        "Technology and innovation centres bridge the gap between university research and industry. "
        "The Catapult network is the United Kingdom's group of such centres. "
        "It was set up by Innovate UK in 2011, after a review of the role of technology and innovation centres.\n",
        encoding="utf-8",
    )
    splitter = shipped_settings.splitter.model_copy(update={"max_chars": 170})  # cut before "It was set up"
    settings = shipped_settings.model_copy(
        update={"knowledge_dir": knowledge, "index_dir": tmp_path / "index", "splitter": splitter}
    )
    build_index(knowledge, settings.index_dir, embedder, splitter.settings())
    answer = build_answerer(settings, embedder).ask("When did Innovate UK set up the Catapults?")

    assert answer.citations[0].passage.text.startswith("It was set up by Innovate UK in 2011")
    referent, quote = answer.quotes[:2]  # what "It" refers to comes first, cited to the part before the cut
    assert referent.text.startswith("The Catapult network is") and referent.citation == 2
    assert quote.text.startswith("It was set up by Innovate UK") and quote.citation == 1
