"""Keyword search (BM25 with an English stemmer) beside the dense index, for exact terms."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG on import; let the application's logging decide.
logging.getLogger("bm25s").setLevel(logging.NOTSET)


class LexicalIndex:
    """BM25 over passage texts; `scores(query)` gives one score per passage, in corpus order."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)
            self._vocab = set(tokens.vocab)
        else:
            self._vocab = set()

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is indexed)."""
        terms = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)
        known = [t for t in terms[0] if t in self._vocab]
        if not known or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
