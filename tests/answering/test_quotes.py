"""The sentences an answer quotes: whole lists when asked, what a lead-in introduces, what a pronoun refers to."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import EvalReport
from bot.config import Settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index

pytestmark = pytest.mark.slow


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
    build_index(knowledge, settings.index_dir, embedder, splitter)
    answer = build_answerer(settings, embedder).ask("When did Innovate UK set up the Catapults?")

    assert answer.citations[0].passage.text.startswith("It was set up by Innovate UK in 2011")
    quote, referent = answer.quotes[
        :2
    ]  # the answer leads; what "It" refers to follows, cited to the part before the cut
    assert quote.text.startswith("It was set up by Innovate UK") and quote.citation == 1 and not quote.context
    assert referent.text.startswith("The Catapult network is") and referent.citation == 2 and referent.context
    assert (
        "2011, after a review of the role of technology and innovation centres. [1] (context: The Catapult network"
        in (answer.text)
    )


def test_an_answering_sentence_that_leans_back_leads_and_the_sentence_it_leans_on_follows_as_context(
    tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "catapults.txt").write_text(  # a pasted page: no front matter, one paragraph
        "The Catapult network is the United Kingdom's group of technology and innovation centres. "
        "It was set up by Innovate UK in 2011, after a review of the role of such centres.\n",
        encoding="utf-8",
    )
    settings = shipped_settings.model_copy(update={"knowledge_dir": knowledge, "index_dir": tmp_path / "index"})
    build_index(knowledge, settings.index_dir, embedder, settings.splitter)
    answer = build_answerer(settings, embedder).ask("When did Innovate UK set up the Catapult network?")

    first, context = answer.quotes[:2]
    assert first.text.startswith("It was set up by Innovate UK in 2011") and not first.context
    assert context.text.startswith("The Catapult network is") and context.context
    assert answer.text.startswith("It was set up by Innovate UK in 2011"), answer.text
    assert answer.text.endswith(
        "(context: The Catapult network is the United Kingdom's group of technology and innovation centres. [1])"
    ), answer.text


def test_a_lead_in_whose_list_is_missing_is_not_quoted_and_a_question_for_its_items_is_told_so(
    tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "amnpo.txt").write_text(  # pasted from a page whose bullet list did not come along
        "The Advanced Manufacturing National Program Office\n\n"
        "The Advanced Manufacturing National Program Office (AMNPO) was set up in 2012 to coordinate federal "
        "programmes in advanced manufacturing. The AMNPO has two primary missions:\n\n"
        "Funding for the institutes comes from federal agencies and from industry partners, who match the "
        "federal contribution at least one to one.\n",
        encoding="utf-8",
    )
    settings = shipped_settings.model_copy(update={"knowledge_dir": knowledge, "index_dir": tmp_path / "index"})
    build_index(knowledge, settings.index_dir, embedder, settings.splitter)
    answerer = build_answerer(settings, embedder)

    told = answerer.ask("What are the two primary missions of the AMNPO?")
    assert told.abstained and "The AMNPO has two primary missions:" in told.reason
    assert told.citations  # the nearest sources are still shown

    answer = answerer.ask("When was the AMNPO set up?")
    assert not answer.abstained and "set up in 2012" in answer.quotes[0].text
    assert not any(q.text.endswith(":") for q in answer.quotes), answer.text
