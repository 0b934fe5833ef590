"""Keyword search (BM25 with an English stemmer) beside the dense index, for exact terms."""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# bm25s sets its own logger to DEBUG on import; let the application's logging decide.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

STOPWORDS = list(STOPWORDS_EN_PLUS)  # includes question words: what, which, does, why...


class LexicalIndex:
    """BM25 over passage texts; `scores(query)` gives one score per passage, in corpus order."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        self._df: Counter[str] = Counter()
        # sentences and headings are tokenized again at every question: remember them
        self.terms = functools.lru_cache(maxsize=16384)(self._terms)  # type: ignore[method-assign]
        self.tokens = functools.lru_cache(maxsize=16384)(self._tokens)  # type: ignore[method-assign]
        # the retriever and the answerability features both score a question: search once
        self.scores = functools.lru_cache(maxsize=8)(self._scores)  # type: ignore[method-assign]
        for text in texts:
            self._df.update(self._terms(text))
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords=STOPWORDS, stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def terms(self, text: str) -> frozenset[str]:
        """Stemmed key terms, stopwords removed: 'Who commissioned the reports?' -> {'commiss', 'report'}."""
        return self._terms(text)

    def _terms(self, text: str) -> frozenset[str]:
        tokens = bm25s.tokenize(
            [text], stopwords=STOPWORDS, stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return frozenset(tokens[0])

    def tokens(self, text: str) -> tuple[str, ...]:
        """Stemmed key terms in reading order (stopwords removed), for matching phrases."""
        return self._tokens(text)

    def _tokens(self, text: str) -> tuple[str, ...]:
        words = bm25s.tokenize(
            [text], stopwords=STOPWORDS, stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return tuple(words[0])

    def known(self, term: str) -> bool:
        """Whether some passage holds the (stemmed) term."""
        return term in self._df

    def idf(self, term: str) -> float:
        """How rare a term is in the corpus (BM25's idf); unseen terms count as rarest."""
        df = self._df.get(term, 0)
        return math.log(1 + (self._size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is indexed), read-only."""
        return self._scores(query)

    def _scores(self, query: str) -> np.ndarray:
        known = [t for t in self.terms(query) if t in self._df]
        if not known or self._size == 0:
            scores = np.zeros(self._size, dtype=np.float32)
        else:
            scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        scores.setflags(write=False)  # shared by every caller of the cache
        return scores
