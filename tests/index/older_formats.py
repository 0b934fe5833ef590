"""Rewrite a version as an older PolicyBot stored it, for the tests that older indexes still load."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from embeddings.index.lexical import PREFIX
from embeddings.index.passage_store import SENTENCES_FILE


def sentences_into_sqlite(version_dir: Path, dtype: type[np.floating] = np.float16) -> None:
    """Move the sentence vectors from sentences.f16 into passages.sqlite's BLOB column, as formats
    before 6 kept them (format 4: float32, 5: float16), and delete the saved keyword index (6 added it)."""
    dimension = json.loads((version_dir / "meta.json").read_text())["dimension"]
    matrix = np.fromfile(version_dir / SENTENCES_FILE, dtype=np.float16).reshape(-1, dimension)
    with sqlite3.connect(version_dir / "passages.sqlite") as conn:
        rows = conn.execute("SELECT id, sentences, sentence_row FROM passages").fetchall()
        conn.execute("ALTER TABLE passages ADD COLUMN sentence_vectors BLOB NOT NULL DEFAULT x''")
        conn.executemany(
            "UPDATE passages SET sentence_vectors = ? WHERE id = ?",
            [
                (matrix[start : start + len(json.loads(spans))].astype(dtype).tobytes(), pid)
                for pid, spans, start in rows
            ],
        )
        conn.execute("ALTER TABLE passages DROP COLUMN sentence_row")
    conn.close()
    (version_dir / SENTENCES_FILE).unlink()
    for path in version_dir.glob(f"{PREFIX}.*"):
        path.unlink()
