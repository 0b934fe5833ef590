"""Acronyms defined in the documents are searched in both forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index import acronyms
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.ingest.documents import read_document
from embeddings.ingest.splitter import SplitterSettings, split_document
from tests.conftest import KNOWLEDGE, FakeEmbedder


def test_definitions_are_collected_from_the_shipped_page() -> None:
    doc = read_document(KNOWLEDGE / "united-states" / "key-policies.md", KNOWLEDGE)
    found = acronyms.collect(p.text for p in split_document(doc, SplitterSettings()))
    assert found["PCAST"] == "President’s Council of Advisors on Science and Technology"
    assert found["AMP"] == "Advanced Manufacturing Partnership"
    assert found["R&D"] == "research and development"


def test_a_question_is_expanded_towards_the_form_the_documents_use() -> None:
    usage = acronyms.AcronymUsage({"AMP": ("Advanced Manufacturing Partnership", 4, 1)})
    assert usage.expand("Who chairs the Advanced Manufacturing Partnership?").endswith("(AMP)")
    assert usage.expand("Who chairs AMP?") == "Who chairs AMP?"
    assert usage.expand("Who chairs the amplifier group?") == "Who chairs the amplifier group?"


def test_both_forms_are_counted_as_whole_words_in_any_number_of_texts() -> None:
    definitions = {
        "AMP": "Advanced Manufacturing Partnership",
        "R&D": "research and development",
        "U.S.": "United States",
        "CO2": "carbon dioxide",
        "Ag": "antigen",
    }
    texts = [
        "The AMP met; advanced manufacturing partnerships (plural) count as the long form.",
        "An AMPlifier, a CAMP and amp are not AMP. R&D spending rose.",
        "Research and development in the U.S. cut CO2, not CO2e, since the United States acted.",
        "Research and developments, carbon dioxides, dioxide carbon.",
        "Antigens, not antigenic Ag-like signals.",
    ]
    usage = acronyms.AcronymUsage.count(definitions, texts)
    assert usage.table == {
        "AMP": ("Advanced Manufacturing Partnership", 2, 1),
        "R&D": ("research and development", 1, 2),
        "U.S.": ("United States", 1, 1),
        "CO2": ("carbon dioxide", 1, 1),
        "Ag": ("antigen", 1, 1),  # "Ag-like" uses it: a hyphen ends a run
    }
    assert usage.short_forms_in("R&D and U.S. policy") == {"R&D", "U.S."}
    assert usage.long_forms_in("What about Carbon Dioxide?") == {"CO2"}
    assert usage.expand("Who runs research and development?") == "Who runs research and development?"
    assert usage.expand("Who leads the AMP?") == "Who leads the AMP?"


@pytest.mark.slow
def test_a_question_using_the_long_form_finds_passages_using_only_the_acronym(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    (knowledge_copy / "amp-meetings.md").write_text(
        "# AMP meetings\n\nAMP members met in Pittsburgh.\n\nThe AMP chairs rotate yearly.\n"
    )
    settings = shipped_settings.model_copy(update={"knowledge_dir": knowledge_copy, "index_dir": tmp_path / "index"})
    build_index(knowledge_copy, settings.index_dir, embedder, settings.splitter)
    lexical = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"mode": "lexical"})})
    answerer = build_answerer(lexical, embedder=embedder)
    _, hits = answerer.retrieve("Where did the Advanced Manufacturing Partnership gather?", k=10)
    note = [h for h in hits if h.passage.doc == "amp-meetings.md"]  # shares no word with the question but AMP
    assert len(note) == 2 and all(h.lexical > 0 for h in note)


def test_a_version_records_its_acronym_counts_and_serves_them_without_recounting(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SplitterSettings())
    index = load_index(tmp_path / "index")
    recounted = acronyms.AcronymUsage.count(index.meta.acronyms, (p.context_text() for p in index.passages.values()))
    assert index.meta.acronym_counts["AMP"][0] > 0  # the shipped page uses "AMP"
    assert index.acronym_usage.table == recounted.table
