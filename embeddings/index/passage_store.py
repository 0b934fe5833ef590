"""Passage text and metadata in SQLite, sentence vectors beside it in one raw float16 file.

Index format 6 writes every sentence vector to `sentences.f16` (rows in passage order, each
passage's first row in its `sentence_row` column), so a replica reads the rows answering needs
from the file (through the page cache) instead of holding them all. Formats 4 and 5 kept
them in a BLOB column (float32 and float16; a row's byte length tells which), still read, so an
older index loads without re-embedding. No pickle anywhere: JSON, SQLite and raw numbers.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.index.sentence_vectors import STORED_DTYPE, SentenceVectors
from embeddings.passage import Passage

SENTENCES_FILE = "sentences.f16"

SCHEMA = """
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,      -- JSON list of headings
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    list_id TEXT,
    sentences TEXT NOT NULL,    -- JSON list of [start, end]
    metadata TEXT NOT NULL,     -- JSON object
    content_hash TEXT NOT NULL,
    sentence_row INTEGER NOT NULL  -- its first row in sentences.f16 (float16, n_sentences x dimension)
);
CREATE INDEX passages_doc ON passages(doc, position);
"""

_COLUMNS = "id, key, doc, title, section, text, source, position, kind, list_id, sentences, metadata, content_hash"


def write_passages(path: Path, rows: Iterable[tuple[Passage, str, np.ndarray]]) -> None:
    """Create a new store at `path` (and `sentences.f16` beside it) from (passage, content hash,
    sentence vectors) rows; the vectors are streamed to the file, never gathered in memory."""
    conn = sqlite3.connect(path)
    try:
        with open(path.with_name(SENTENCES_FILE), "wb") as vectors_file:
            conn.executescript(SCHEMA)
            conn.executemany(
                f"INSERT INTO passages ({_COLUMNS}, sentence_row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                _rows(rows, vectors_file),
            )
        conn.commit()
    finally:
        conn.close()


def _rows(rows: Iterable[tuple[Passage, str, np.ndarray]], vectors_file: Any) -> Iterator[tuple[Any, ...]]:
    written = 0
    for p, digest, vectors in rows:
        matrix = np.ascontiguousarray(vectors, dtype=STORED_DTYPE)
        vectors_file.write(matrix.tobytes())
        yield (
            p.id,
            p.key,
            p.doc,
            p.title,
            json.dumps(list(p.section)),
            p.text,
            p.source,
            p.position,
            p.kind,
            p.list_id,
            json.dumps([list(s) for s in p.sentences]),
            json.dumps(p.metadata, sort_keys=True),
            digest,
            written,
        )
        written += len(matrix)


def read_passages(path: Path, dimension: int) -> tuple[list[Passage], dict[int, str], SentenceVectors]:
    """All passages in document order, their content hashes, and their sentence vectors (format 6:
    read from `sentences.f16` when asked; formats 4 and 5: copied out of the BLOB column)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(passages)")}
        if "sentence_row" in columns:
            return _read_from_file(conn, path.with_name(SENTENCES_FILE), dimension)
        return _read_blobs(conn, dimension)
    finally:
        conn.close()


class _Shared:
    """One object for each distinct document path, title, source, kind, heading path and metadata
    among the passages read: a million passages of a few thousand documents hold each of these a
    few thousand times, not a million (read-only, as every `Passage` field is)."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._sections: dict[str, tuple[str, ...]] = {}
        self._metadata: dict[str, dict[str, Any]] = {}

    def string(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def section(self, raw: str) -> tuple[str, ...]:
        found = self._sections.get(raw)
        if found is None:
            found = self._sections[raw] = tuple(self.string(h) for h in json.loads(raw))
        return found

    def metadata(self, raw: str) -> dict[str, Any]:
        found = self._metadata.get(raw)
        if found is None:
            found = self._metadata[raw] = json.loads(raw)
        return found

    def passage(self, row: tuple[Any, ...]) -> Passage:
        return Passage(
            id=row[0],
            key=row[1],
            doc=self.string(row[2]),
            title=self.string(row[3]),
            section=self.section(row[4]),
            text=row[5],
            source=self.string(row[6]),
            position=row[7],
            kind=self.string(row[8]),
            list_id=row[9],
            sentences=tuple((int(a), int(b)) for a, b in json.loads(row[10])),
            metadata=self.metadata(row[11]),
        )


def _read_from_file(
    conn: sqlite3.Connection, vectors_path: Path, dimension: int
) -> tuple[list[Passage], dict[int, str], SentenceVectors]:
    passages: list[Passage] = []
    hashes: dict[int, str] = {}
    starts: list[int] = []
    shared = _Shared()
    for row in conn.execute(f"SELECT {_COLUMNS}, sentence_row FROM passages ORDER BY doc, position"):
        passage = shared.passage(row)
        passages.append(passage)
        hashes[passage.id] = row[12]
        starts.append(row[13])
    counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
    rows = int(counts.sum())
    size = vectors_path.stat().st_size
    row_bytes = dimension * np.dtype(STORED_DTYPE).itemsize
    if size != rows * row_bytes:
        raise ValueError(f"{vectors_path.name} holds {size} bytes, {rows} sentences need {rows * row_bytes}")
    matrix = FileRows(vectors_path, rows, dimension)
    ids = np.array([p.id for p in passages], dtype=np.int64)
    return passages, hashes, SentenceVectors(ids, counts, matrix, np.array(starts, dtype=np.int64))


class FileRows:
    """The float16 rows of `sentences.f16`, read from the file when asked (`rows[a:b]`).

    Not memory-mapped: with the file in the page cache in large folios (a sequential read, as
    the checksum does, makes them), each mapped read put up to ~1.5 MB into the replica's resident
    set, 70 MB a question at a million passages. A positional read costs a few microseconds,
    is safe from any thread, and leaves the cache to the kernel, shared by every replica."""

    def __init__(self, path: Path, rows: int, dimension: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115  # held as long as the index is served
        self._row_bytes = dimension * np.dtype(STORED_DTYPE).itemsize
        self._rows, self.dimension = rows, dimension
        self.dtype = np.dtype(STORED_DTYPE)
        self.nbytes = 0  # nothing held in memory

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self._rows)
        count = max(stop - start, 0)
        data = os.pread(self._file.fileno(), count * self._row_bytes, start * self._row_bytes)
        if len(data) != count * self._row_bytes:
            raise ValueError(f"{self._file.name} ends before row {stop} (truncated since it was checked?)")
        return np.frombuffer(data, dtype=STORED_DTYPE).reshape(count, self.dimension)


def _read_blobs(conn: sqlite3.Connection, dimension: int) -> tuple[list[Passage], dict[int, str], SentenceVectors]:
    """Formats 4 and 5: rows read one at a time, each blob copied into one buffer sized beforehand
    (a list of every row's blob held a second copy, which the allocator kept after it was freed)."""
    (total,) = conn.execute("SELECT coalesce(sum(length(sentence_vectors)), 0) FROM passages").fetchone()
    buffer = np.empty(int(total), dtype=np.uint8)
    passages: list[Passage] = []
    hashes: dict[int, str] = {}
    itemsizes: set[int] = set()
    offset = 0
    shared = _Shared()
    for row in conn.execute(f"SELECT {_COLUMNS}, sentence_vectors FROM passages ORDER BY doc, position"):
        passage = shared.passage(row)
        passages.append(passage)
        hashes[passage.id] = row[12]
        n, blob = len(passage.sentences), row[13]
        if n:
            whole, rest = divmod(len(blob), n * dimension)
            itemsizes.add(0 if rest else whole)  # 0: not a whole number of values per sentence
        elif blob:
            itemsizes.add(0)
        buffer[offset : offset + len(blob)] = np.frombuffer(blob, dtype=np.uint8)
        offset += len(blob)
    if not itemsizes <= {2} and not itemsizes <= {4}:
        raise ValueError(f"sentence vectors of {sorted(itemsizes)} bytes a value: expected float16 (2) or float32 (4)")
    dtype = np.float32 if itemsizes == {4} else STORED_DTYPE
    matrix = buffer[:offset].view(dtype).reshape(-1, dimension)
    ids = np.array([p.id for p in passages], dtype=np.int64)
    counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
    return passages, hashes, SentenceVectors(ids, counts, matrix)
