"""Retrieval in three modes: dense (FAISS or Milvus), lexical (BM25) or hybrid (the two fused).

Dense score = mean of the passage's cosine (with its heading path) and its best sentence's
cosine. Lexical score = BM25 scaled to [0, 1] within the query. Hybrid = dense +
lexical_weight * lexical. The dense score is kept on every hit: abstention is calibrated on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from embeddings.embedder import Embedder
from embeddings.passage import Passage

if TYPE_CHECKING:  # at run time only its attributes are used: config.yaml loads without bm25s and scipy
    from embeddings.index.loaded import LoadedIndex

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = get_args(Mode)
CANDIDATES = 20  # per signal, at least, before fusion


class RetrievalSettings(BaseModel):
    """How passages are found and ranked (config.yaml `retrieval:`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top_k: int = Field(5, ge=1, le=100, description="passages retrieved per question")
    mode: Mode = Field("hybrid", description="dense (embeddings), lexical (BM25 keywords) or hybrid (both fused)")
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted",
        description="hybrid fusion: weighted (dense + lexical_weight x scaled BM25) or rrf (reciprocal rank)",
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="reciprocal rank fusion constant")
    lexical_weight: float = Field(0.3, ge=0.0, le=10.0, description="weight of the BM25 score; 0 = dense only")


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: `score` dense cosine, `lexical` scaled BM25, `fused` orders the hits."""

    passage: Passage
    score: float
    lexical: float = 0.0
    fused: float = 0.0


class Retriever:
    """Finds the passages closest to a question in a loaded index."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def search(
        self,
        question: str,
        query: np.ndarray,
        k: int,
        index: LoadedIndex | None = None,
        country: str | None = None,
    ) -> list[Hit]:
        """The `k` best passages for a question and its embedding, best first.

        Pass `index` to pin the version (a reload may swap `self.index` at any time) and
        `country` to search only the documents of that country (as their metadata names it).
        """
        index = index or self.index
        only = index.country_ids.get(country, np.zeros(0, dtype=np.int64)) if country else None
        if index.vectors.count == 0 or (only is not None and len(only) == 0):
            return []
        pool = max(k, CANDIDATES)
        candidates: dict[int, float | None] = {}  # passage id -> its passage cosine, when FAISS gave it
        if self.settings.mode != "lexical":
            scores, ids = index.search(query, pool, country=country)
            candidates.update((int(pid), float(s)) for s, pid in zip(scores[0], ids[0], strict=True) if pid >= 0)
        lexical = self._lexical(question, index, only)
        if lexical is not None:
            for pos in top_positions(lexical, pool):
                candidates.setdefault(index.order[int(pos)], None)
        cosines = {pid: s for pid, s in candidates.items() if s is not None}
        unscored = [pid for pid in candidates if pid not in cosines]  # found by keywords only
        if unscored:
            vectors = index.passage_vectors(unscored)  # one request, not one per passage
            cosines.update((pid, float(v @ query)) for pid, v in zip(unscored, vectors, strict=True))
        scored = []
        for pid in candidates:
            passage_score = cosines[pid]
            dense = (passage_score + float((index.sentence_vectors[pid] @ query).max())) / 2
            lex = float(lexical[index.positions[pid]]) if lexical is not None else 0.0
            scored.append((pid, dense, lex))
        fused = self._fuse([d for _, d, _ in scored], [lex for _, _, lex in scored])
        hits = [Hit(index.passages[pid], d, lex, f) for (pid, d, lex), f in zip(scored, fused, strict=True)]
        hits.sort(key=lambda h: h.fused, reverse=True)
        return hits[:k]

    def _fuse(self, dense: list[float], lexical: list[float]) -> list[float]:
        """One ordering score per candidate, by mode and fusion method."""
        s = self.settings
        if s.mode == "dense":
            return dense
        if s.mode == "lexical":
            return lexical
        if s.fusion == "weighted":
            return [d + s.lexical_weight * lex for d, lex in zip(dense, lexical, strict=True)]
        dense_rank, lexical_rank = _ranks(dense), _ranks(lexical)  # reciprocal rank fusion
        return [
            1 / (s.rrf_k + dr) + (1 / (s.rrf_k + lr) if lex > 0 else 0.0)
            for dr, lr, lex in zip(dense_rank, lexical_rank, lexical, strict=True)
        ]

    def _lexical(self, question: str, index: LoadedIndex, only: np.ndarray | None) -> np.ndarray | None:
        """BM25 scores (of `only` those ids, if given) scaled so the best passage has 1, or None
        when keywords are not used."""
        s = self.settings
        if s.mode == "dense" or (s.mode == "hybrid" and s.fusion == "weighted" and s.lexical_weight <= 0):
            return None
        scores = index.lexical.scores(question)
        if only is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[[index.positions[int(pid)] for pid in only]] = True
            scores = np.where(mask, scores, 0.0)
        top = float(scores.max()) if len(scores) else 0.0
        return scores / top if top > 0 else None


def top_positions(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the `n` highest positive scores, best first (ties: earlier position first).

    No full sort (28 ms a question at a million passages) nor `argpartition` (slow on the many
    tied scores BM25 gives: 9-72 ms there): the n-th best of the blocks' maxima bounds the n-th
    best score from below, so only the scores at or above it are sorted (3 ms at a million)."""
    block = max(64, len(scores) // (64 * max(n, 1)))
    if n > 0 and len(scores) > n * block:
        whole = len(scores) // block * block
        maxima = scores[:whole].reshape(-1, block).max(axis=1)
        floor = float(np.partition(maxima, len(maxima) - n)[-n])  # n scores are at least this
        top = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    else:
        top = np.flatnonzero(scores > 0)
    top = top[scores[top] > 0]
    return top[np.lexsort((top, -scores[top]))][:n]


def _ranks(values: list[float]) -> list[int]:
    """1-based rank of each value, highest first."""
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    ranks = [0] * len(values)
    for rank, i in enumerate(order, start=1):
        ranks[i] = rank
    return ranks
