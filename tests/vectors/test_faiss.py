"""The vector index: exact or approximate by corpus size, with filters, recall and round trips on real FAISS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.ingest.splitter import SplitterSettings
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings
from tests.conftest import FakeEmbedder, write_config

DIM = 64
KINDS = ("flat", "hnsw", "ivf")
FP16 = 1e-3  # vectors are stored as float16: values and cosines within ~5e-4 of float32


def clustered(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors): normalized vectors around 40 centres, like sentence embeddings; ids sparse int64."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = rng.choice(2**62, n, replace=False).astype(np.int64)
    return ids, x


def exact_top(ids: np.ndarray, x: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in ids[np.argsort(-(x @ query), kind="stable")[:k]]]


def test_auto_is_exact_below_the_threshold_and_approximate_above() -> None:
    ids, x = clustered(300)
    assert VectorIndex.build(DIM, ids, x, VectorIndexSettings(exact_up_to=300)).kind == "flat"
    assert VectorIndex.build(DIM, ids, x, VectorIndexSettings(exact_up_to=100)).kind == "ivf"
    assert VectorIndex.build(DIM, ids, x, VectorIndexSettings(type="hnsw", exact_up_to=10**6)).kind == "hnsw"
    assert VectorIndex.build(DIM, ids[:0], x[:0], VectorIndexSettings(type="ivf")).kind == "flat"  # empty


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_search_finds_at_least_95_percent_of_the_exact_top_10(kind: str) -> None:
    ids, x = clustered(5000)
    index = VectorIndex.build(DIM, ids, x, VectorIndexSettings(type=kind))
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, len(x), 100)] + 0.1 * rng.standard_normal((100, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    found = index.search(queries, 10)[1]
    recall = np.mean([len(set(f) & set(exact_top(ids, x, q, 10))) / 10 for f, q in zip(found, queries, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("kind", KINDS)
def test_a_filter_returns_the_best_of_the_selected_ids_only(kind: str) -> None:
    ids, x = clustered(3000)
    index = VectorIndex.build(DIM, ids, x, VectorIndexSettings(type=kind, exact_up_to=100))
    query = x[7]
    few = np.concatenate([ids[7:8], ids[2000:2040]])  # at most exact_up_to: searched exactly
    scores, found = index.search(query, 10, only=few)
    assert list(found[0]) == exact_top(few, np.vstack([x[7:8], x[2000:2040]]), query, 10)
    assert scores[0][0] == pytest.approx(1.0, abs=FP16)
    many = ids[::3]  # 1,000 ids, above exact_up_to: searched approximately within the filter
    found = index.search(query, 10, only=many)[1][0]
    assert len(found) == 10 and set(found) <= set(many)
    assert len(set(found) & set(exact_top(many, x[::3], query, 10))) >= 8


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_a_very_selective_filter_still_fills_the_results(kind: str) -> None:
    ids, x = clustered(2000)
    index = VectorIndex.build(
        DIM, ids, x, VectorIndexSettings(type=kind, hnsw_m=16, exact_up_to=0)
    )  # no exact shortcut
    rare = ids[-12:]
    scores, found = index.search(x[0], 10, only=rare)
    assert len(set(found[0])) == 10 and set(found[0]) <= set(rare)
    assert list(scores[0]) == sorted(scores[0], reverse=True)
    assert list(index.search(x[0], 10, only=rare[:3])[1][0][3:]) == [-1] * 7  # fewer selected than asked


@pytest.mark.parametrize("kind", KINDS)
def test_saved_index_loads_with_its_kind_vectors_and_results(kind: str, tmp_path: Path) -> None:
    ids, x = clustered(1000)
    built = VectorIndex.build(DIM, ids, x, VectorIndexSettings(type=kind, hnsw_m=16))
    built.save(tmp_path / "vectors.faiss")
    deeper = VectorIndexSettings(type=kind, hnsw_ef_search=128, ivf_nprobe=32)
    loaded = VectorIndex.load(tmp_path / "vectors.faiss", deeper)
    assert (loaded.kind, loaded.count) == (kind, 1000)
    np.testing.assert_allclose(loaded.reconstruct_many(ids[123:124])[0], x[123], atol=FP16)
    top = loaded.search(x[5], 5)[1][0]
    assert top[0] == ids[5] and len(set(top) & set(exact_top(ids, x, x[5], 5))) >= 4


def test_changing_the_index_type_rebuilds_without_reembedding(knowledge_copy: Path, tmp_path: Path) -> None:
    split, index_dir = SplitterSettings(), tmp_path / "index"
    flat = build_index(knowledge_copy, index_dir, FakeEmbedder(), split)
    exact = load_index(index_dir)
    again = FakeEmbedder()
    ivf = build_index(knowledge_copy, index_dir, again, split, vector_index=VectorIndexSettings(exact_up_to=5))
    assert again.embedded == [] and ivf.published and ivf.version != flat.version
    approximate = load_index(index_dir, search=VectorIndexSettings(ivf_nprobe=4))
    assert approximate.vectors.kind == "ivf" and approximate.meta.vector_index.startswith("ivf nlist=")
    every = list(exact.passages)
    np.testing.assert_allclose(approximate.passage_vectors(every), exact.passage_vectors(every), atol=1e-6)
    query = again.embed(["export controls on semiconductors"])
    assert list(approximate.vectors.search(query, 3)[1][0]) == list(exact.vectors.search(query, 3)[1][0])
    back = build_index(knowledge_copy, index_dir, FakeEmbedder(), split)
    assert back.version == flat.version and load_index(index_dir).meta.vector_index == "flat"


def test_unknown_index_type_in_config_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", tmp_path, tmp_path, "vector_index:\n  type: annoy\n")
    with pytest.raises(ConfigError, match=r"vector_index\.type"):
        load_settings(path)
