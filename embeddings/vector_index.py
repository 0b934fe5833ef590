"""FAISS inner-product index over L2-normalized float32 vectors with int64 ids."""

from __future__ import annotations

import re
from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """A tiny interface over FAISS: add, remove, search, save, load, count."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got shape {vectors.shape}")
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        return int(self._index.remove_ids(selector))

    def search(self, vectors: np.ndarray, k: int, only: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (n_queries, k); missing results have id -1.
        `only` restricts the search to those ids (a metadata filter)."""
        k = max(1, min(k, self.count))
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if only is None:
            return self._index.search(queries, k)
        params = faiss.SearchParameters()
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(only, dtype=np.int64))
        params.sel = selector
        return self._index.search(queries, k, params=params)  # `selector` stays alive until here

    def reconstruct(self, passage_id: int) -> np.ndarray:
        """The stored vector of one id."""
        return np.asarray(self._index.reconstruct(int(passage_id)), dtype=np.float32)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def save(self, path: Path) -> None:
        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as exc:  # FAISS reports a failed write (a full disk...) as a C++ RuntimeError
            cause = re.search(
                r"\(([^()]+)\)\s*$", str(exc)
            )  # "... write error in PATH: 991150 != 1026304 (No space...)"
            raise OSError(f"cannot write {path.name}: {cause.group(1) if cause else 'write error'}") from exc

    @classmethod
    def load(cls, path: Path, mmap: bool = False) -> VectorIndex:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(path), flags)
        return cls(index.d, index)
