"""Keyword scores: one BM25 pass per question, shared by retrieval and answerability."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from embeddings.index.build import build_index
from embeddings.index.lexical import STOPWORDS, LexicalIndex
from embeddings.index.loaded import load_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

TEXTS = [
    "The Catapult network was set up by Innovate UK in 2011.",
    "Manufacturing USA institutes are funded by federal agencies and industry.",
    "The High-Tech Strategy is Germany's innovation policy.",
]


def test_the_passage_holding_the_questions_rare_terms_scores_highest() -> None:
    scores = LexicalIndex(TEXTS).scores("Who set up the Catapult network?")
    assert int(np.argmax(scores)) == 0 and scores[1] == 0 and scores[2] == 0


def test_a_question_scored_twice_gets_the_same_scores_and_no_caller_can_change_them() -> None:
    lexical = LexicalIndex(TEXTS)
    first = lexical.scores("How are Manufacturing USA institutes funded?")
    with pytest.raises(ValueError):
        first[0] = 99.0  # shared between the retriever and the features: read-only
    again = lexical.scores("How are Manufacturing USA institutes funded?")
    assert again.tolist() == first.tolist() and int(np.argmax(again)) == 1


def test_a_question_with_no_indexed_term_scores_zero_everywhere() -> None:
    assert not LexicalIndex(TEXTS).scores("What about bread?").any()


def test_a_saved_keyword_index_is_mapped_back_and_scores_as_the_one_built(tmp_path: Path) -> None:
    built = LexicalIndex(TEXTS)
    built.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, len(TEXTS))
    assert loaded is not None
    for question in ("Who set up the Catapult network?", "How are institutes funded by industry?"):
        assert loaded.scores(question).tolist() == built.scores(question).tolist()
    for term in ("catapult", "fund", "germani", "bread"):
        assert loaded.known(term) == built.known(term) and loaded.idf(term) == built.idf(term)
    assert loaded.document_frequency("innov") == 2  # "Innovate UK", "innovation policy"


def test_a_keyword_index_saved_for_other_passages_is_refused_and_none_saved_loads_none(tmp_path: Path) -> None:
    LexicalIndex(TEXTS).save(tmp_path)
    with pytest.raises(ValueError, match="holds 3 passages, not 4"):
        LexicalIndex.load(tmp_path, 4)
    assert LexicalIndex.load(tmp_path / "elsewhere", 3) is None


def test_an_index_version_serves_the_keyword_index_it_saved(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SplitterSettings())
    index = load_index(tmp_path / "index")
    built = LexicalIndex([index.passages[pid].context_text() for pid in index.order])
    assert isinstance(np.asarray(index.lexical._bm25.scores["data"]).base, np.memmap)  # read from the file
    for question in ("What did the 2011 PCAST report recommend?", "Who funds Manufacturing USA institutes?"):
        assert index.lexical.scores(question).tolist() == built.scores(question).tolist()


@given(st.text(max_size=200))
@example("What did the 2011 PCAST report's authors recommend, and why?")
@example("Schrödinger's café — naïve ÉCOLE, R&D in the U.S., x_y __ 12")
def test_questions_are_split_and_stemmed_exactly_as_bm25s_indexed_the_passages(text: str) -> None:
    lexical = LexicalIndex([])
    indexed = bm25s.tokenize(
        [text], stopwords=STOPWORDS, stemmer=lexical._stemmer, return_ids=False, show_progress=False
    )
    assert lexical.tokens(text) == tuple(indexed[0])
    assert lexical.terms(text) == frozenset(indexed[0])
