"""Acronyms defined in the documents are searched in both forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import build_answerer
from embeddings import acronyms
from embeddings.documents import read_document
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.indexing import build_index
from embeddings.splitter import SplitterSettings, split_document
from tests.conftest import KNOWLEDGE


def test_definitions_are_collected_from_the_shipped_page() -> None:
    doc = read_document(KNOWLEDGE / "united-states" / "key-policies.md", KNOWLEDGE)
    found = acronyms.collect(p.text for p in split_document(doc, SplitterSettings()))
    assert found["PCAST"] == "President’s Council of Advisors on Science and Technology"
    assert found["AMP"] == "Advanced Manufacturing Partnership"
    assert found["R&D"] == "research and development"


def test_a_question_is_expanded_towards_the_form_the_documents_use() -> None:
    usage = {"AMP": ("Advanced Manufacturing Partnership", 4, 1)}
    assert acronyms.expand("Who chairs the Advanced Manufacturing Partnership?", usage).endswith("(AMP)")
    assert acronyms.expand("Who chairs AMP?", usage) == "Who chairs AMP?"
    assert acronyms.expand("Who chairs the amplifier group?", usage) == "Who chairs the amplifier group?"


@pytest.mark.slow
def test_a_question_using_the_long_form_finds_passages_using_only_the_acronym(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    (knowledge_copy / "amp-meetings.md").write_text(
        "# AMP meetings\n\nAMP members met in Pittsburgh.\n\nThe AMP chairs rotate yearly.\n"
    )
    settings = shipped_settings.model_copy(update={"knowledge_dir": knowledge_copy, "index_dir": tmp_path / "index"})
    build_index(knowledge_copy, settings.index_dir, embedder, settings.splitter.settings())
    lexical = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"mode": "lexical"})})
    answerer = build_answerer(lexical, embedder=embedder)
    _, hits = answerer.retrieve("Where did the Advanced Manufacturing Partnership gather?", k=10)
    note = [h for h in hits if h.passage.doc == "amp-meetings.md"]  # shares no word with the question but AMP
    assert len(note) == 2 and all(h.lexical > 0 for h in note)
