"""Every passage's sentence vectors in one float16 matrix: half the memory of float32, read as float32.

The matrix may be rows read from the index file when asked (format 6, `FileRows`): it is used
as it is, never loaded, so a replica holds none of them.

A dict of one float32 array per passage cost ~1.5 KB per sentence plus ~150 bytes of Python
objects per passage; here a sentence costs 768 bytes (384 dimensions) and a passage 16 bytes of
offsets. Rows come back as float32 copies, so callers compute as before; float16 keeps a
cosine to within ~1e-3 of float32 (unit vectors, 11-bit mantissa).

>>> import numpy as np
>>> v = SentenceVectors.from_dict({7: np.eye(2, dtype=np.float32), 3: np.zeros((0, 2), np.float32)}, 2)
>>> v[7].dtype, v[7].tolist(), v[3].shape, sorted(v), len(v)
(dtype('float32'), [[1.0, 0.0], [0.0, 1.0]], (0, 2), [3, 7], 2)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

STORED_DTYPE = np.float16


class SentenceVectors(Mapping[int, np.ndarray]):
    """Passage id -> its sentences' vectors (n_sentences x dimension, float32), stored as float16."""

    def __init__(self, ids: np.ndarray, counts: np.ndarray, matrix: Any, starts: np.ndarray | None = None) -> None:
        """`ids` (any order), the number of sentences of each, and their rows (an array, or any
        float16 rows sliceable as one, such as `FileRows`): in that order, or from each one's row
        in `starts`. A float16 `matrix` is kept as it is."""
        order = np.argsort(ids, kind="stable")
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        if starts is None:
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            if int(counts.sum()) != len(matrix):
                raise ValueError(f"{int(counts.sum())} sentences counted, {len(matrix)} rows given")
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        if len(starts) and (starts.min() < 0 or int((starts + counts).max()) > len(matrix)):
            raise ValueError(f"sentence rows beyond the {len(matrix)} rows given")
        self._ids = np.ascontiguousarray(ids, dtype=np.int64)[order]
        self._starts = starts[order]
        self._counts = counts[order]
        self._matrix = matrix if matrix.dtype == STORED_DTYPE else np.ascontiguousarray(matrix, dtype=STORED_DTYPE)

    @classmethod
    def from_dict(cls, vectors: Mapping[int, np.ndarray], dimension: int) -> SentenceVectors:
        ids = np.fromiter(vectors, dtype=np.int64, count=len(vectors))
        rows = [np.asarray(vectors[int(pid)]).reshape(-1, dimension) for pid in ids]
        counts = np.array([len(r) for r in rows], dtype=np.int64)
        matrix = np.concatenate(rows) if rows else np.zeros((0, dimension))
        return cls(ids, counts, matrix)

    def _find(self, pid: object) -> int | None:
        i = int(np.searchsorted(self._ids, pid))  # type: ignore[call-overload]
        return i if i < len(self._ids) and self._ids[i] == pid else None

    def __contains__(self, pid: object) -> bool:
        """Without reading the rows (Mapping's default would read them: a file read on disk)."""
        return self._find(pid) is not None

    def __getitem__(self, pid: int) -> np.ndarray:
        i = self._find(pid)
        if i is None:
            raise KeyError(pid)
        start = int(self._starts[i])
        return self._matrix[start : start + int(self._counts[i])].astype(np.float32)

    def __iter__(self) -> Iterator[int]:
        return (int(pid) for pid in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def on_disk(self) -> bool:
        """Whether the rows are read from the index file when asked (not held in memory)."""
        return not isinstance(self._matrix, np.ndarray)

    @property
    def nbytes(self) -> int:
        """The memory its arrays hold (rows read from disk hold none)."""
        return self._matrix.nbytes + self._ids.nbytes + self._starts.nbytes + self._counts.nbytes
