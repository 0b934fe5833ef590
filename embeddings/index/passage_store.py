"""Passage text, metadata and sentence vectors in SQLite (no pickle: JSON and raw float16).

Index format 5 stores sentence vectors as float16; format 4 stored float32, which is still read
(a row's byte length tells which), so an older index loads without re-embedding.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from embeddings.index.sentence_vectors import STORED_DTYPE, SentenceVectors
from embeddings.passage import Passage

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
    sentence_vectors BLOB NOT NULL  -- float16 (format 4: float32), n_sentences x dimension
);
CREATE INDEX passages_doc ON passages(doc, position);
"""


def write_passages(
    path: Path,
    rows: Iterable[tuple[Passage, str, np.ndarray]],
) -> None:
    """Create a new store at `path` from (passage, content hash, sentence vectors) rows."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        conn.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
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
                    np.ascontiguousarray(vectors, dtype=STORED_DTYPE).tobytes(),
                )
                for p, digest, vectors in rows
            ),
        )
        conn.commit()
    finally:
        conn.close()


def read_passages(path: Path, dimension: int) -> tuple[list[Passage], dict[int, str], SentenceVectors]:
    """All passages in document order, their content hashes, and their sentence vectors.

    Rows are read one at a time and each vector blob copied into one buffer sized beforehand, so
    loading holds no second copy of the vectors (a list of every row's blob did, and the allocator
    kept that memory after it was freed).
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (total,) = conn.execute("SELECT coalesce(sum(length(sentence_vectors)), 0) FROM passages").fetchone()
        buffer = np.empty(int(total), dtype=np.uint8)
        passages: list[Passage] = []
        hashes: dict[int, str] = {}
        counts: list[int] = []
        itemsizes: set[int] = set()
        offset = 0
        rows = conn.execute(
            "SELECT id, key, doc, title, section, text, source, position, kind, list_id, sentences, "
            "metadata, content_hash, sentence_vectors FROM passages ORDER BY doc, position"
        )
        for row in rows:
            passage = Passage(
                id=row[0],
                key=row[1],
                doc=row[2],
                title=row[3],
                section=tuple(json.loads(row[4])),
                text=row[5],
                source=row[6],
                position=row[7],
                kind=row[8],
                list_id=row[9],
                sentences=tuple((int(a), int(b)) for a, b in json.loads(row[10])),
                metadata=json.loads(row[11]),
            )
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
            counts.append(n)
    finally:
        conn.close()
    if not itemsizes <= {2} and not itemsizes <= {4}:
        raise ValueError(f"sentence vectors of {sorted(itemsizes)} bytes a value: expected float16 (2) or float32 (4)")
    dtype = np.float32 if itemsizes == {4} else STORED_DTYPE
    matrix = buffer[:offset].view(dtype).reshape(-1, dimension)
    ids = np.array([p.id for p in passages], dtype=np.int64)
    return passages, hashes, SentenceVectors(ids, np.array(counts, dtype=np.int64), matrix)
