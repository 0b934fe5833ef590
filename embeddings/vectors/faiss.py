"""FAISS inner-product index over L2-normalized vectors with int64 ids, stored as float16.

Exact for small corpora, approximate (IVF or HNSW) above `exact_up_to` vectors, always inside an
IndexIDMap2 so passage ids, `reconstruct` and id filters work the same way. The exact and IVF
indexes keep each vector as float16 (FAISS's fp16 scalar quantizer: 768 bytes a vector instead of
1,536, scores within ~1e-4 of float32, and exact search reads half the memory, so it is faster);
HNSW keeps float32. Files written with float32 (IndexFlatIP, IndexIVFFlat) still load:

    >>> settings = VectorIndexSettings(type="auto", exact_up_to=50_000)
    >>> settings.resolve(10_000), settings.resolve(200_000)
    ('flat', 'ivf')
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

CACHED_SELECTIONS = 4  # filtered selections whose vectors are kept for exact search
_MIN_POINTS_PER_LIST = 39  # FAISS's k-means wants at least this many training vectors per list
_TRAIN_POINTS_PER_LIST = 64
_MAX_AUTO_NPROBE = 128  # IVF lists searched by default on the largest indexes (see `nprobe`)
_MAX_EF = 1024  # HNSW efSearch cap when a filter widens the search
# Fewer queries than this are searched on one OpenMP thread: a thread team gains nothing for one
# query, and on a busy 2-core machine waiting for it cost 20 ms per search (bench/vector_search.py).
_SERIAL_BELOW = 20


class VectorIndexSettings(BaseModel):
    """How the vector index is built and searched (config.yaml `vector_index:`).

    `type`: auto = exact up to `exact_up_to` vectors, IVF above; flat, hnsw, ivf = always that.
    Filters selecting at most `exact_up_to` ids are searched exactly on any type.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description="auto (exact up to exact_up_to passages, IVF above), flat (exact), hnsw or ivf (approximate)",
    )
    exact_up_to: int = Field(
        50_000, ge=0, le=100_000_000, description="auto searches exactly up to this many passages; also filters"
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph neighbours per vector")
    hnsw_ef_construction: int = Field(80, ge=8, le=2048, description="HNSW build-time search depth")
    hnsw_ef_search: int = Field(64, ge=8, le=4096, description="HNSW query-time search depth")
    ivf_nlist: int = Field(0, ge=0, le=1_000_000, description="IVF inverted lists; 0 = about 2 x sqrt(passages)")
    ivf_nprobe: int = Field(
        0, ge=0, le=100_000, description="IVF lists searched per query; 0 = a sixth of the lists, 16 to 128"
    )

    def resolve(self, n: int) -> str:
        """The index kind built for `n` vectors: flat, hnsw or ivf (an empty index is flat)."""
        if n == 0 or self.type == "flat" or (self.type == "auto" and n <= self.exact_up_to):
            return "flat"
        return "ivf" if self.type == "auto" else self.type

    def nlist(self, n: int) -> int:
        """IVF inverted lists for `n` vectors, never more than the training data supports."""
        wanted = self.ivf_nlist or round(2 * math.sqrt(n))
        return max(1, min(wanted, n // _MIN_POINTS_PER_LIST))

    def nprobe(self, nlist: int) -> int:
        """IVF lists searched per query. Automatic: a sixth of the lists, between 16 and 128. Recall
        depends on how many lists are searched far more than on what share of them: on SciFact's
        sentences (bench/ivf_probes.py) 32 lists gave recall@10 0.966, 0.957, 0.950 and 0.951 at
        5k, 10k, 20k and 45k vectors (128 to 425 lists), and 128 lists 0.995 at 45k; so a share of
        the lists (334 of 2,000 at a million) searched more than recall needs.

        >>> auto = VectorIndexSettings()
        >>> auto.nprobe(200), auto.nprobe(2000), VectorIndexSettings(ivf_nprobe=8).nprobe(200)
        (34, 128, 8)
        """
        wanted = self.ivf_nprobe or min(_MAX_AUTO_NPROBE, max(16, math.ceil(nlist / 6)))
        return max(1, min(wanted, nlist))

    def describe(self, n: int) -> str:
        """What is built for `n` vectors, with the build parameters ('flat', 'ivf nlist=632', ...);
        recorded in meta.json and part of the version id, so a change rebuilds the index."""
        kind = self.resolve(n)
        if kind == "hnsw":
            return f"hnsw m={self.hnsw_m} ef_construction={self.hnsw_ef_construction}"
        if kind == "ivf":
            return f"ivf nlist={self.nlist(n)}"
        return "flat"


class VectorIndex:
    """A tiny interface over FAISS: build, add, search, reconstruct_many, save, load, count."""

    filter_fields: frozenset[str] = frozenset()  # filters come as passage ids (`only`)

    def __init__(
        self, dimension: int, index: faiss.Index | None = None, settings: VectorIndexSettings | None = None
    ) -> None:
        self.dimension = dimension
        self._index: Any = index if index is not None else faiss.IndexIDMap2(_exact_fp16(dimension))
        self.settings = settings or VectorIndexSettings()
        self._selections: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.configure(self.settings)

    @classmethod
    def build(
        cls, dimension: int, ids: np.ndarray, vectors: np.ndarray, settings: VectorIndexSettings | None = None
    ) -> VectorIndex:
        """An index over `vectors` of the kind `settings` picks for their number (IVF is trained on them)."""
        settings = settings or VectorIndexSettings()
        vectors = _matrix(vectors, dimension)
        n = len(vectors)
        kind = settings.resolve(n)
        inner: faiss.Index
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = settings.hnsw_ef_construction
        elif kind == "ivf":
            nlist = settings.nlist(n)
            inner = faiss.IndexIVFScalarQuantizer(
                faiss.IndexFlatIP(dimension), dimension, nlist, _FP16, faiss.METRIC_INNER_PRODUCT, False
            )  # by_residual=False: each vector's own float16 values, as the exact index keeps them
            inner.cp.niter = 10  # k-means iterations: 10 reach the recall of the default 25 in 40% of the time
            sample = np.random.default_rng(0).choice(n, min(n, _TRAIN_POINTS_PER_LIST * nlist), replace=False)
            inner.train(vectors[np.sort(sample)])
        else:
            inner = _exact_fp16(dimension)
        index = cls(dimension, faiss.IndexIDMap2(inner), settings)
        if n:
            index.add(ids, vectors)
        return index

    @property
    def kind(self) -> str:
        """flat, hnsw or ivf."""
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            return "hnsw"
        if isinstance(inner, faiss.IndexIVF):
            return "ivf"
        return "flat"

    def configure(self, settings: VectorIndexSettings) -> None:
        """Apply the search-time parameters (HNSW efSearch, IVF nprobe) of `settings`."""
        self.settings = settings
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = settings.hnsw_ef_search
        elif isinstance(inner, faiss.IndexIVF):
            inner.nprobe = settings.nprobe(int(inner.nlist))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = _matrix(vectors, self.dimension)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexIVF):
            inner.make_direct_map()  # `reconstruct` on IVF needs it
        self._selections.clear()

    def search(
        self, vectors: np.ndarray, k: int, only: np.ndarray | None = None, where: Mapping[str, str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (n_queries, k); missing results have id -1.

        `only` restricts the search to those ids (a metadata filter). On an approximate index a
        selection of at most `exact_up_to` ids is searched exactly; a larger one is searched
        approximately with a search widened by its rarity, and exactly if that finds too few.
        FAISS knows no metadata: `where` must be empty (pass the selected ids as `only`).
        """
        if where:
            raise ValueError(f"a FAISS index cannot filter on {', '.join(where)}; pass the passage ids as only=")
        k = max(1, min(k, self.count))
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        with _threads(1 if len(queries) < _SERIAL_BELOW else 0):
            return self._search(queries, k, only)

    def _search(self, queries: np.ndarray, k: int, only: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if only is None:
            return self._index.search(queries, k)
        only = np.ascontiguousarray(only, dtype=np.int64)
        kind = self.kind
        if kind != "flat" and len(only) <= self.settings.exact_up_to:
            return self._exact(queries, k, only, cache=True)
        selector = faiss.IDSelectorBatch(only)
        params = self._filtered_params(kind, len(only) / max(1, self.count))
        params.sel = selector
        scores, ids = self._index.search(queries, k, params=params)  # `selector` stays alive until here
        if kind != "flat" and (ids[:, : min(k, len(only))] < 0).any():
            return self._exact(queries, k, only, cache=False)
        return scores, ids

    def _filtered_params(self, kind: str, share: float) -> faiss.SearchParameters:
        """Search parameters widened for a filter keeping `share` of the vectors."""
        if kind == "hnsw":
            hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # missing from faiss's stubs
            hnsw.efSearch = min(_MAX_EF, max(self.settings.hnsw_ef_search, int(self.settings.hnsw_ef_search / share)))
            return hnsw
        if kind == "ivf":
            ivf = faiss.SearchParametersIVF()
            nlist = int(faiss.extract_index_ivf(self._index).nlist)
            base = self.settings.nprobe(nlist)
            ivf.nprobe = min(nlist, max(base, math.ceil(base / share)))
            return ivf
        return faiss.SearchParameters()

    def _exact(self, queries: np.ndarray, k: int, only: np.ndarray, cache: bool) -> tuple[np.ndarray, np.ndarray]:
        """Exact search over the vectors of the selected ids."""
        matrix = self._selection(only) if cache else self._index.reconstruct_batch(only)
        k_found = min(k, len(only))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if k_found == 0:
            return scores, ids
        sims = queries @ matrix.T
        top = np.argpartition(-sims, k_found - 1, axis=1)[:, :k_found]
        top_scores = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        scores[:, :k_found] = np.take_along_axis(top_scores, order, axis=1)
        ids[:, :k_found] = only[np.take_along_axis(top, order, axis=1)]
        return scores, ids

    def _selection(self, only: np.ndarray) -> np.ndarray:
        """The vectors of `only`, kept for the last few selections (filters repeat: one per country)."""
        key = hashlib.blake2b(only.tobytes(), digest_size=16).digest()
        with self._lock:
            matrix = self._selections.get(key)
            if matrix is not None:
                self._selections.move_to_end(key)
                return matrix
        matrix = self._index.reconstruct_batch(only)
        with self._lock:
            self._selections[key] = matrix
            while len(self._selections) > CACHED_SELECTIONS:
                self._selections.popitem(last=False)
        return matrix

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, in that order."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32).reshape(-1, self.dimension)

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
    def load(cls, path: Path, settings: VectorIndexSettings | None = None) -> VectorIndex:
        """Read an index file of any kind; `settings` gives the search parameters."""
        index = faiss.read_index(str(path))
        return cls(index.d, index, settings)


_FP16 = faiss.ScalarQuantizer.QT_fp16


def _exact_fp16(dimension: int) -> faiss.Index:
    """Exhaustive inner-product search over float16 copies of the vectors (no training needed)."""
    return faiss.IndexScalarQuantizer(dimension, _FP16, faiss.METRIC_INNER_PRODUCT)


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """FAISS's OpenMP threads for this calling thread only (0 = leave as is)."""
    if count <= 0:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _matrix(vectors: np.ndarray, dimension: int) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise ValueError(f"expected vectors of dimension {dimension}, got shape {vectors.shape}")
    return vectors
