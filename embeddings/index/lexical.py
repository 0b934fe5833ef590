"""Keyword search (BM25 with an English stemmer) beside the dense index, for exact terms.

Each index version saves its BM25 matrix (`lexical.*`, numpy and JSON files written by bm25s),
so a replica memory-maps it instead of tokenizing every passage at start-up.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# bm25s sets its own logger to DEBUG on import; let the application's logging decide.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

STOPWORDS = list(STOPWORDS_EN_PLUS)  # includes question words: what, which, does, why...
_STOPWORD_SET = frozenset(STOPWORDS)
_SPLIT = re.compile(r"(?u)\b\w\w+\b").findall  # bm25s.tokenize's default pattern (scikit-learn's)
PREFIX = "lexical"  # the saved files: lexical.data.npy, lexical.vocab.json, lexical.params.json...
_NAMES = {
    f"{part}_name": f"{PREFIX}.{part}.{ext}"
    for part, ext in (("data", "npy"), ("indices", "npy"), ("indptr", "npy"), ("vocab", "json"), ("params", "json"))
} | {"nnoc_name": f"{PREFIX}.nonoccurrence.npy"}


class LexicalIndex:
    """BM25 over passage texts; `scores(query)` gives one score per passage, in corpus order."""

    def __init__(self, texts: Sequence[str], saved: bm25s.BM25 | None = None) -> None:
        """BM25 over `texts`, or (`saved`, see `load`) the one a version saved for that many texts."""
        self._stemmer = Stemmer.Stemmer("english")
        self._size = len(texts)
        # sentences and headings are tokenized again at every question: remember them
        self.terms = functools.lru_cache(maxsize=16384)(self._terms)  # type: ignore[method-assign]
        self.tokens = functools.lru_cache(maxsize=16384)(self._tokens)  # type: ignore[method-assign]
        # the retriever and the answerability features both score a question: search once
        self.scores = functools.lru_cache(maxsize=8)(self._scores)  # type: ignore[method-assign]
        self._bm25 = saved if saved is not None else bm25s.BM25()
        if saved is None and texts:
            tokens = bm25s.tokenize(list(texts), stopwords=STOPWORDS, stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)
        indexed = self._size > 0
        self._vocab: dict[str, int] = self._bm25.vocab_dict if indexed else {}
        # a term's passage count is its column's length in the (passages x terms) CSC score matrix
        self._df = np.diff(np.asarray(self._bm25.scores["indptr"])) if indexed else np.zeros(0, dtype=np.int64)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex | None:
        """The BM25 a version saved in `folder` (memory-mapped), or None when it saved none;
        ValueError when it was saved for another number of passages than `size`."""
        if size == 0 or not (folder / _NAMES["params_name"]).is_file():
            return None
        saved = bm25s.BM25.load(folder, mmap=True, show_progress=False, **_NAMES)
        if int(saved.scores["num_docs"]) != size:
            raise ValueError(f"the saved keyword index holds {saved.scores['num_docs']} passages, not {size}")
        return cls(range(size), saved)  # type: ignore[arg-type]  # only its length is read

    def save(self, folder: Path) -> None:
        """Write the BM25 matrix and vocabulary into `folder` (nothing for an empty corpus)."""
        if self._size:
            self._bm25.save(folder, show_progress=False, **_NAMES)

    def terms(self, text: str) -> frozenset[str]:
        """Stemmed key terms, stopwords removed: 'Who commissioned the reports?' -> {'commiss', 'report'}."""
        return self._terms(text)

    def _terms(self, text: str) -> frozenset[str]:
        return frozenset(self._tokens(text))

    def tokens(self, text: str) -> tuple[str, ...]:
        """Stemmed key terms in reading order (stopwords removed), for matching phrases."""
        return self._tokens(text)

    def _tokens(self, text: str) -> tuple[str, ...]:
        # What bm25s.tokenize gives for one text (the passages were indexed with it), without its
        # per-call progress bars and stopword set: an eighth of a 1M-passage answer went to those.
        words = [w for w in _SPLIT(text.lower()) if w not in _STOPWORD_SET]
        return tuple(self._stemmer.stemWords(words))

    def known(self, term: str) -> bool:
        """Whether some passage holds the (stemmed) term."""
        return self.document_frequency(term) > 0

    def document_frequency(self, term: str) -> int:
        """How many passages hold the (stemmed) term."""
        column = self._vocab.get(term)
        return 0 if column is None else int(self._df[column])

    def idf(self, term: str) -> float:
        """How rare a term is in the corpus (BM25's idf); unseen terms count as rarest."""
        df = self.document_frequency(term)
        return math.log(1 + (self._size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is indexed), read-only."""
        return self._scores(query)

    def _scores(self, query: str) -> np.ndarray:
        known = [t for t in self.terms(query) if self.known(t)]
        if not known or self._size == 0:
            scores = np.zeros(self._size, dtype=np.float32)
        else:
            scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        scores.setflags(write=False)  # shared by every caller of the cache
        return scores
