"""Vectors are kept as float16 (since format 5; format 6 maps the sentence vectors from their own file):
half the disk and memory of float32, and an index written by format 4 (float32, with checksums) or
5 (float16 in SQLite) still answers as it is and is upgraded without re-embedding."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import FORMAT_VERSION, IndexMeta
from embeddings.index.passage_store import SENTENCES_FILE
from embeddings.index.sentence_vectors import SentenceVectors
from embeddings.index.versions import current_version_dir, file_checksum
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder
from tests.index.older_formats import sentences_into_sqlite

SPLIT = SplitterSettings()
DIM = 384  # the shipped model's, so the file sizes are those a user sees


def sentence_blobs(version_dir: Path) -> list[tuple[int, bytes]]:
    """(number of sentences, stored bytes) of every passage, as formats 4 and 5 stored them."""
    with sqlite3.connect(version_dir / "passages.sqlite") as conn:
        rows = conn.execute("SELECT sentences, sentence_vectors FROM passages").fetchall()
    return [(len(json.loads(sentences)), blob) for sentences, blob in rows]


def as_older_format(index: Path, format_version: int) -> Path:
    """Rewrite the published version as format 4 (float32 vectors) or 5 (float16) wrote it: sentence
    vectors in SQLite, checksums, an id of its own."""
    version_dir = current_version_dir(index)
    assert version_dir is not None
    sentences_into_sqlite(version_dir, np.float32 if format_version == 4 else np.float16)
    if format_version == 4:
        stored = faiss.read_index(str(version_dir / "vectors.faiss"))
        ids = faiss.vector_to_array(stored.id_map).astype(np.int64)
        flat = faiss.IndexIDMap2(faiss.IndexFlatIP(stored.d))
        flat.add_with_ids(stored.reconstruct_batch(ids), ids)
        faiss.write_index(flat, str(version_dir / "vectors.faiss"))
    raw = json.loads((version_dir / "meta.json").read_text())
    fields = {k: raw[k] for k in IndexMeta.__dataclass_fields__}
    fields.update(format_version=format_version, version="0123456789ab")
    kept = [name for name in raw["files"] if (version_dir / name).exists()]  # not sentences.f16, lexical.*
    fields["files"] = {name: file_checksum(version_dir / name) for name in kept}
    (version_dir / "meta.json").write_text(IndexMeta(**fields).to_json())
    version_dir = version_dir.rename(version_dir.parent / fields["version"])
    (index / "CURRENT").write_text(fields["version"] + "\n")
    return version_dir


def test_vectors_take_half_the_disk_of_float32_and_sentence_vectors_are_read_from_disk_not_held(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    report = build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(dimension=DIM), SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    index = load_index(tmp_path / "index")
    sentences = sum(len(p.sentences) for p in index.passages.values())
    assert sentences > report.passages  # the passages have sentences to store
    assert (version_dir / SENTENCES_FILE).stat().st_size == sentences * DIM * 2  # float16 (float32 took 4)
    float32_size = report.passages * DIM * 4
    assert (version_dir / "vectors.faiss").stat().st_size < 0.6 * float32_size
    assert isinstance(index.sentence_vectors, SentenceVectors) and index.sentence_vectors.on_disk
    first = next(p for p in index.passages.values() if p.sentences)
    assert index.sentence_vectors[first.id].shape == (len(first.sentences), DIM)


def test_a_truncated_sentence_vector_file_is_refused_by_name(knowledge_copy: Path, tmp_path: Path) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(dimension=DIM), SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    path = version_dir / SENTENCES_FILE
    path.write_bytes(path.read_bytes()[: DIM * 2 * 3])
    with pytest.raises(IndexError_, match=r"sentences.f16 does not match its checksum.*run: policybot index"):
        load_index(tmp_path / "index")


@pytest.mark.parametrize("format_version", [4, 5])
def test_an_older_format_answers_as_it_is_and_is_upgraded_without_reembedding(
    knowledge_copy: Path, tmp_path: Path, format_version: int
) -> None:
    index = tmp_path / "index"
    embedder = FakeEmbedder(dimension=DIM)
    build_index(knowledge_copy, index, embedder, SPLIT)
    new = load_index(index)
    old_dir = as_older_format(index, format_version)
    width = 4 if format_version == 4 else 2  # float32 as format 4 wrote them, float16 as 5 did
    assert all(len(blob) == n * DIM * width for n, blob in sentence_blobs(old_dir))

    old = load_index(index)  # served as it is: no "run policybot index" first
    assert old.meta.format_version == format_version and list(old.passages) == list(new.passages)
    first = next(iter(new.passages.values()))
    np.testing.assert_allclose(old.sentence_vectors[first.id], new.sentence_vectors[first.id], atol=1e-3)
    query = embedder.embed([first.context_text()])
    assert list(old.vectors.search(query, 3)[1][0]) == list(new.vectors.search(query, 3)[1][0])

    again = FakeEmbedder(dimension=DIM)
    report = build_index(knowledge_copy, index, again, SPLIT)
    assert again.embedded == [] and report.unchanged == report.passages and report.published
    upgraded = load_index(index)
    assert upgraded.meta.format_version == FORMAT_VERSION == 6
    assert isinstance(upgraded.sentence_vectors, SentenceVectors) and upgraded.sentence_vectors.on_disk
    np.testing.assert_allclose(upgraded.sentence_vectors[first.id], new.sentence_vectors[first.id], atol=1e-3)
    assert list(upgraded.vectors.search(query, 3)[1][0]) == list(new.vectors.search(query, 3)[1][0])
