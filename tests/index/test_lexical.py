"""Keyword scores: one BM25 pass per question, shared by retrieval and answerability."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.index.lexical import LexicalIndex

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
