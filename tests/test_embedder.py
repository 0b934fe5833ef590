"""Embedders: remembering one embeds each distinct text once."""

from __future__ import annotations

import numpy as np

from embeddings.embedder import RememberingEmbedder
from tests.conftest import FakeEmbedder


def test_a_text_asked_again_is_not_reembedded_and_gets_the_same_vector() -> None:
    inner = FakeEmbedder()
    remembering = RememberingEmbedder(inner)
    first = remembering.embed(["What is PCAST?"])
    again = remembering.embed(["Why?", "What is PCAST?", "Why?"])
    assert inner.embedded == ["What is PCAST?", "Why?"]
    assert np.array_equal(again[1], first[0]) and np.array_equal(again[0], again[2])
    assert np.array_equal(again, inner.embed(["Why?", "What is PCAST?", "Why?"]))
    assert remembering.embed([]).shape == (0, inner.dimension)
