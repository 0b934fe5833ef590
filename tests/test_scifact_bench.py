"""The SciFact benchmark's loader and metrics are right (skipped when the data set is absent)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.ingest.splitter import SplitterSettings
from embeddings.retrieval import RetrievalSettings, Retriever

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("scifact_bench", ROOT / "bench" / "scifact.py")
assert spec is not None and spec.loader is not None
scifact = importlib.util.module_from_spec(spec)
sys.modules["scifact_bench"] = scifact
spec.loader.exec_module(scifact)

needs_data = pytest.mark.skipif(not scifact.DATA.is_file(), reason=f"SciFact is not at {scifact.DATA}")


def test_ndcg_follows_trec_eval() -> None:
    assert scifact.ndcg_at_10(["a", "b"], {"a"}) == 1.0
    assert scifact.ndcg_at_10(["b", "a"], {"a"}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert scifact.ndcg_at_10(["x"] * 10 + ["a"], {"a"}) == 0.0
    assert scifact.ndcg_at_10(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 0.5) / (1 + 1 / 1.5849625))


@needs_data
def test_loader_matches_the_published_counts() -> None:
    data = scifact.load(scifact.DATA, "test")
    assert (len(data.corpus), len(data.queries)) == (5183, 300)
    assert sum(len(docs) for docs in data.qrels.values()) == 339


@needs_data
@pytest.mark.slow
def test_a_small_slice_runs_through_the_real_pipeline(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    data = scifact.load(scifact.DATA, "test")
    queries = dict(list(data.queries.items())[:10])
    wanted = {d for q in queries for d in data.qrels[q]}
    docs = sorted(wanted | set(list(data.corpus)[:30]))
    small = scifact.Scifact({d: data.corpus[d] for d in docs}, queries, {q: data.qrels[q] for q in queries})
    scifact.write_knowledge(small, tmp_path / "knowledge")
    build_index(tmp_path / "knowledge", tmp_path / "index", embedder, SplitterSettings())
    index = load_index(tmp_path / "index")
    hybrid = scifact.evaluate(Retriever(index, embedder, RetrievalSettings(mode="hybrid")), small)
    assert 0.5 < hybrid["nDCG@10"] <= 1.0  # relevant documents are among ~40: easy, but not by accident
    assert hybrid["recall@100"] == 1.0
    asked = scifact.evaluate(
        Retriever(index, embedder, RetrievalSettings(mode="hybrid")), small, rank=scifact.with_acronyms
    )
    assert 0.5 < asked["nDCG@10"] <= 1.0 and asked["recall@100"] == 1.0
