"""Loading an index version: what it holds, and clear errors for a missing or damaged one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import FORMAT_VERSION
from embeddings.index.versions import current_version_dir
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()


def test_index_round_trip_keeps_passages_vectors_and_metadata(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    report = build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    index = load_index(tmp_path / "index")
    assert report.documents == 1 and report.passages == 9 and not report.problems
    assert index.vectors.count == 9 == len(index.passages)
    assert index.meta.model == "fake-hash" and index.meta.dimension == 64
    assert index.meta.splitter == {"max_chars": 1200, "min_chars": 1}
    meta = json.loads((index.path / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    first = next(iter(index.passages.values()))
    scores, ids = index.vectors.search(fake_embedder.embed([first.context_text()]), 1)
    assert int(ids[0][0]) == first.id and scores[0][0] == pytest.approx(1.0, abs=1e-3)  # vectors stored as float16
    assert index.passages[first.id].metadata["country"] == "United States"
    assert index.sentence_vectors[first.id].shape == (len(first.sentences), 64)


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match=r"no index found .*policybot index"):
        load_index(tmp_path / "nowhere")


def test_a_damaged_index_file_is_reported_not_crashed_on(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    (version_dir / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match=r"vectors.faiss does not match its checksum.*run: policybot index"):
        load_index(tmp_path / "index")
