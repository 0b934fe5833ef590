"""Hybrid retrieval: dense scores (passage and best sentence) fused with BM25 keyword scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddings.embedder import Embedder
from embeddings.index_files import LoadedIndex
from embeddings.passage import Passage

CANDIDATES = 20  # per signal, before fusion


@dataclass(frozen=True)
class Hit:
    """A retrieved passage. `score` is the dense cosine score (calibrated, used to abstain);
    `lexical` the BM25 score scaled to [0, 1] within the query; `fused` orders the hits."""

    passage: Passage
    score: float
    lexical: float = 0.0
    fused: float = 0.0


class Retriever:
    """Finds the passages closest to a question in a loaded index."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, lexical_weight: float = 0.2) -> None:
        self.index = index
        self.embedder = embedder
        self.lexical_weight = lexical_weight

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def search(self, question: str, query: np.ndarray, k: int, index: LoadedIndex | None = None) -> list[Hit]:
        """The `k` best passages for a question and its embedding, best first.

        Dense score = mean of the passage's cosine (with its heading path) and its best
        sentence's cosine; fused = dense + lexical_weight * scaled BM25. Pass `index` to pin
        the version (a reload may swap `self.index` at any time).
        """
        index = index or self.index
        if index.vectors.count == 0:
            return []
        scores, ids = index.vectors.search(query, max(k, CANDIDATES))
        passage_scores = {int(pid): float(s) for s, pid in zip(scores[0], ids[0], strict=True) if pid >= 0}
        lexical = index.lexical.scores(question) if self.lexical_weight > 0 else np.zeros(len(index.order))
        top_lexical = float(lexical.max()) if len(lexical) else 0.0
        if top_lexical > 0:
            lexical = lexical / top_lexical
            for pos in np.argsort(-lexical)[:CANDIDATES]:
                pid = index.order[int(pos)]
                if lexical[pos] > 0 and pid not in passage_scores:
                    passage_scores[pid] = float(index.passage_vector(pid) @ query)
        hits = []
        for pid, passage_score in passage_scores.items():
            best_sentence = float((index.sentence_vectors[pid] @ query).max())
            dense = (passage_score + best_sentence) / 2
            lex = float(lexical[index.positions[pid]]) if top_lexical > 0 else 0.0
            hits.append(Hit(index.passages[pid], dense, lex, dense + self.lexical_weight * lex))
        hits.sort(key=lambda h: h.fused, reverse=True)
        return hits[:k]
