"""The country, year and name guards read the passages' text, not their metadata: documents a user
adds without a country answer questions about the countries they discuss, in any form."""

from __future__ import annotations

import shutil

import pytest

from bot.answering.answerer import Answerer
from bot.config import Settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.conftest import KNOWLEDGE, settings_for

pytestmark = pytest.mark.slow

# Written for this test (no country in the front matter); the shipped US page has one.
FRANCE = """---
title: "Industrial policy notes"
---

# Industrial policy notes

## Public investment bank

Bpifrance, the public investment bank of France, was created in 2012 by merging OSEO, CDC Entreprises and the
Strategic Investment Fund. It lends to and invests in small and medium-sized firms and finances their innovation.

## Competitiveness

The Gallois report of November 2012 on the competitiveness of French industry made twenty-two proposals, among
them a cut in the social charges that employers pay.
"""
FIGURES = """---
title: "Manufacturing in figures"
---

# Manufacturing in figures

Manufacturing added about 139 billion pounds to UK GDP in 2012, around a tenth of the total.
"""


@pytest.fixture(scope="module")
def answerer_without_metadata(
    tmp_path_factory: pytest.TempPathFactory, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> Answerer:
    base = tmp_path_factory.mktemp("no-country")
    knowledge = base / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    (knowledge / "notes").mkdir()
    (knowledge / "notes" / "industrial-policy.md").write_text(FRANCE, encoding="utf-8")
    (knowledge / "notes" / "figures.md").write_text(FIGURES, encoding="utf-8")
    settings = settings_for(shipped_settings, knowledge, base / "index")
    assert build_index(knowledge, settings.index_dir, embedder, settings.splitter).problems == []
    answerer = build_answerer(settings, embedder=embedder)
    assert answerer.retriever.index.countries() == {"United States"}  # only the shipped page says its country
    return answerer


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("What does France's public investment bank do?", "lends to and invests in small"),
        ("What did the Galois report on French industry propose?", "twenty-two proposals"),  # Gallois
        ("How much did manufacturing add to Britain's Gross Domestic Product in 2012?", "139 billion pounds"),
    ],
)
def test_a_document_without_country_metadata_answers_about_the_country_it_discusses(
    answerer_without_metadata: Answerer, question: str, quoted: str
) -> None:
    answer = answerer_without_metadata.ask(question)
    assert not answer.abstained, answer.reason
    assert quoted in answer.text
    assert answer.citations[0].passage.doc.startswith("notes/")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What does Japan's public investment bank do?", "no document mentions Japan"),
        ("What did the Gallois report of 2019 propose?", "no document mentions 2019"),
        ("What did the Gallois report say about Italian industry?", "no document mentions Italy"),
    ],
)
def test_a_country_or_year_no_passage_mentions_still_abstains(
    answerer_without_metadata: Answerer, question: str, reason: str
) -> None:
    answer = answerer_without_metadata.ask(question)
    assert answer.abstained
    assert reason in answer.reason


def test_a_country_another_document_mentions_is_not_one_the_closest_passages_mention(
    answerer_without_metadata: Answerer,
) -> None:
    answer = answerer_without_metadata.ask("What are France's five objectives for advanced manufacturing?")
    assert answer.abstained
    assert answer.reason == "its closest passages say nothing about France"


def test_a_country_prefix_still_scopes_by_metadata(answerer_without_metadata: Answerer) -> None:
    answer = answerer_without_metadata.ask("[France] What does the public investment bank do?")
    assert answer.abstained
    assert answer.reason == "it holds no documents about France"
