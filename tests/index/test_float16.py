"""Vectors are kept as float16 (format 5): half the disk and memory of float32, and an index written
by format 4 (float32, with checksums) still answers as it is and is upgraded without re-embedding."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np

from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import FORMAT_VERSION, IndexMeta
from embeddings.index.versions import current_version_dir, file_checksum
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()
DIM = 384  # the shipped model's, so the file sizes are those a user sees


def sentence_blobs(version_dir: Path) -> list[tuple[int, bytes]]:
    """(number of sentences, stored bytes) of every passage."""
    with sqlite3.connect(version_dir / "passages.sqlite") as conn:
        rows = conn.execute("SELECT sentences, sentence_vectors FROM passages").fetchall()
    return [(len(json.loads(sentences)), blob) for sentences, blob in rows]


def as_format_4(index: Path) -> Path:
    """Rewrite the published version as format 4 wrote it: float32 vectors, checksums, an id of its own."""
    version_dir = current_version_dir(index)
    assert version_dir is not None
    with sqlite3.connect(version_dir / "passages.sqlite") as conn:
        rows = conn.execute("SELECT id, sentence_vectors FROM passages").fetchall()
        conn.executemany(
            "UPDATE passages SET sentence_vectors = ? WHERE id = ?",
            [(np.frombuffer(blob, dtype=np.float16).astype(np.float32).tobytes(), pid) for pid, blob in rows],
        )
    stored = faiss.read_index(str(version_dir / "vectors.faiss"))
    ids = faiss.vector_to_array(stored.id_map).astype(np.int64)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(stored.d))
    flat.add_with_ids(stored.reconstruct_batch(ids), ids)
    faiss.write_index(flat, str(version_dir / "vectors.faiss"))
    raw = json.loads((version_dir / "meta.json").read_text())
    fields = {k: raw[k] for k in IndexMeta.__dataclass_fields__}
    fields.update(format_version=4, version="0123456789ab")
    fields["files"] = {name: file_checksum(version_dir / name) for name in raw["files"]}
    (version_dir / "meta.json").write_text(IndexMeta(**fields).to_json())
    version_dir = version_dir.rename(version_dir.parent / fields["version"])
    (index / "CURRENT").write_text(fields["version"] + "\n")
    return version_dir


def test_vectors_take_half_the_disk_of_float32(knowledge_copy: Path, tmp_path: Path) -> None:
    report = build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(dimension=DIM), SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    blobs = sentence_blobs(version_dir)
    assert sum(n for n, _ in blobs) > report.passages  # the passages have sentences to store
    assert all(len(blob) == n * DIM * 2 for n, blob in blobs)  # float16: 2 bytes a value (float32 took 4)
    float32_size = report.passages * DIM * 4
    assert (version_dir / "vectors.faiss").stat().st_size < 0.6 * float32_size


def test_a_format_4_index_answers_as_it_is_and_is_upgraded_without_reembedding(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    embedder = FakeEmbedder(dimension=DIM)
    build_index(knowledge_copy, index, embedder, SPLIT)
    new = load_index(index)
    old_dir = as_format_4(index)
    assert all(len(blob) == n * DIM * 4 for n, blob in sentence_blobs(old_dir))  # float32, as format 4 wrote them

    old = load_index(index)  # served as it is: no "run policybot index" first
    assert old.meta.format_version == 4 and list(old.passages) == list(new.passages)
    first = next(iter(new.passages.values()))
    np.testing.assert_allclose(old.sentence_vectors[first.id], new.sentence_vectors[first.id], atol=1e-3)
    query = embedder.embed([first.context_text()])
    assert list(old.vectors.search(query, 3)[1][0]) == list(new.vectors.search(query, 3)[1][0])

    again = FakeEmbedder(dimension=DIM)
    report = build_index(knowledge_copy, index, again, SPLIT)
    assert again.embedded == [] and report.unchanged == report.passages and report.published
    upgraded = load_index(index)
    assert upgraded.meta.format_version == FORMAT_VERSION == 5
    assert all(len(blob) == n * DIM * 2 for n, blob in sentence_blobs(upgraded.path))
    np.testing.assert_allclose(upgraded.sentence_vectors[first.id], new.sentence_vectors[first.id], atol=1e-3)
    assert list(upgraded.vectors.search(query, 3)[1][0]) == list(new.vectors.search(query, 3)[1][0])
