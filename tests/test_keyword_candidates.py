"""The keyword candidates of a question: the best-scoring passages, found without sorting them all."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.retrieval import top_positions


@pytest.mark.parametrize("size", [7, 500, 30_001, 300_000])
@pytest.mark.parametrize("positive", [0.0, 0.001, 0.3, 0.95])
def test_the_candidates_are_the_best_positive_scores_in_order_ties_by_position(size: int, positive: float) -> None:
    rng = np.random.default_rng(size)
    scores = (np.round(rng.random(size) * 20) / 20).astype(np.float32)  # BM25 gives many equal scores
    scores[rng.random(size) >= positive] = 0
    order = np.lexsort((np.arange(size), -scores))
    expected = order[scores[order] > 0][:40]
    assert top_positions(scores, 40).tolist() == expected.tolist()
