"""Passage vectors of one index version in a Milvus collection (pymilvus; Milvus Lite or a server).

Each version gets its own collection, filled once and never changed afterwards: it is created
and filled before the version folder is renamed into place and named in CURRENT, so a crash
mid-write leaves an unpublished collection (dropped with the temp folder), never a
half-written one in use. Old collections are dropped when their versions are pruned.
Country and document are scalar fields, so filters run inside Milvus as expressions.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from embeddings.errors import IndexError_, VectorStoreUnavailable
from embeddings.vectors.base import SETTING, TOKEN_ENV, StoreSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
_BATCH = 5000  # rows per insert or get request (gRPC messages stay well under their 64 MB limit)
_MAX_TEXT = {"country": 512, "doc": 4096}
_SEARCH_PARAMS = {"HNSW": {"ef": 64}, "AUTOINDEX": {"ef": 64}, "IVF_FLAT": {"nprobe": 16}, "FLAT": {}}


def collection_name(settings: StoreSettings, version: str) -> str:
    """A new collection name for `version`: unique per write, so a crashed write never clashes."""
    return f"{settings.collection_prefix}_{version}_{secrets.token_hex(4)}"


class _Connection:
    """A MilvusClient created on first use and again after a failure (the next call reconnects)."""

    def __init__(self, settings: StoreSettings, on_reconnect: Callable[[Any], object] | None = None) -> None:
        self.settings = settings
        self.on_reconnect = on_reconnect  # e.g. load the collection again (a restarted server forgets)
        self._client: Any = None
        self._failed = False
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                client = _connect(self.settings)
                if self._failed and self.on_reconnect is not None:
                    self.on_reconnect(client)
                self._client, self._failed = client, False
            return self._client

    def call(self, what: str, action: Callable[[Any], T]) -> T:
        """Run `action(client)`; a Milvus failure becomes one line naming the URI, and the client is
        dropped so the next call connects again."""
        from pymilvus.exceptions import MilvusException

        try:
            return action(self.client())
        except MilvusException as exc:
            with self._lock:
                self._client, self._failed = None, True
            raise VectorStoreUnavailable(
                f"Milvus at {self.settings.shown} failed to {what} ({_reason(exc)}); check {SETTING}"
            ) from exc


def _connect(settings: StoreSettings) -> Any:
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise IndexError_(f"{SETTING}={settings.shown} needs pymilvus: pip install 'policybot[milvus]'") from None
    try:
        return MilvusClient(uri=settings.uri, token="" if settings.lite else settings.token, timeout=settings.timeout)
    except MilvusException as exc:
        token = f" and {TOKEN_ENV}" if not settings.lite else ""
        raise VectorStoreUnavailable(
            f"cannot reach Milvus at {settings.shown} ({_reason(exc)}): check {SETTING}{token}"
        ) from None


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0] if str(message).strip() else type(exc).__name__


class MilvusVectors:
    """The `VectorStore` calls over one collection: search (with pushed-down filters), fetch, count."""

    filter_fields = frozenset({"country", "doc"})

    def __init__(self, settings: StoreSettings, collection: str, dimension: int) -> None:
        self.settings = settings
        self.collection = collection
        self.dimension = dimension
        self._conn = _Connection(settings, on_reconnect=lambda client: client.load_collection(collection))
        self._count: int | None = None

    @classmethod
    def create(
        cls,
        settings: StoreSettings,
        collection: str,
        dimension: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        fields: Mapping[str, list[str]],
    ) -> MilvusVectors:
        """A new collection holding `vectors` (rows of `ids`) with scalar `fields` (country, doc)."""
        from pymilvus import DataType, MilvusClient

        store = cls(settings, collection, dimension)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        for name, length in _MAX_TEXT.items():
            schema.add_field(name, DataType.VARCHAR, max_length=length)

        def create(client: Any) -> None:
            params = client.prepare_index_params()
            params.add_index(field_name="vector", index_type=settings.milvus_index, metric_type="IP")
            for name in _MAX_TEXT:
                params.add_index(field_name=name, index_type="INVERTED")
            if client.has_collection(collection):
                client.drop_collection(collection)
            client.create_collection(collection, schema=schema, consistency_level="Strong")
            client.create_index(collection, params, sync=False)  # not waiting: a search scans what is not indexed

        store._conn.call("create a collection", create)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
        for start in range(0, len(ids), _BATCH):
            rows = [
                {
                    "id": int(ids[i]),
                    "vector": vectors[i],
                    **{name: values[i][: _MAX_TEXT[name]] for name, values in fields.items()},
                }
                for i in range(start, min(start + _BATCH, len(ids)))
            ]
            store._conn.call("insert vectors", functools.partial(_insert, collection=collection, rows=rows))
        store._conn.call("flush the collection", lambda c: c.flush(collection))
        store._conn.call("load the collection", lambda c: c.load_collection(collection))
        return store

    @classmethod
    def open(cls, settings: StoreSettings, collection: str, dimension: int) -> MilvusVectors:
        """The collection of a written version; a missing one says how to rebuild it."""
        store = cls(settings, collection, dimension)
        if not store._conn.call("list collections", lambda c: c.has_collection(collection)):
            raise IndexError_(
                f"Milvus at {settings.shown} has no collection {collection}; rebuild it with: policybot index --full"
            )
        store._conn.call("load the collection", lambda c: c.load_collection(collection))
        return store

    @property
    def count(self) -> int:
        if self._count is None:
            stats = self._conn.call("count vectors", lambda c: c.get_collection_stats(self.collection))
            self._count = int(stats["row_count"])
        return self._count

    def search(
        self, vectors: np.ndarray, k: int, only: np.ndarray | None = None, where: Mapping[str, str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k), missing results id -1; `where` filters on fields,
        `only` on ids (both inside Milvus)."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        k = max(1, min(k, self.count or 1))
        expression = filter_expression(where or {}, only)
        params = {"metric_type": "IP", "params": _SEARCH_PARAMS.get(self.settings.milvus_index, {})}
        results = self._conn.call(
            "search",
            lambda c: c.search(self.collection, data=list(queries), limit=k, filter=expression, search_params=params),
        )
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, hits in enumerate(results):
            for col, hit in enumerate(hits[:k]):
                scores[row, col] = hit["distance"]
                ids[row, col] = hit["id"]
        return scores, ids

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, in that order; an unknown id is an error."""
        ids = np.asarray(ids, dtype=np.int64)
        found: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), _BATCH):
            chunk = [int(i) for i in ids[start : start + _BATCH]]
            rows = self._conn.call(
                "fetch vectors", functools.partial(_get_vectors, collection=self.collection, ids=chunk)
            )
            found.update((int(r["id"]), np.asarray(r["vector"], dtype=np.float32)) for r in rows)
        missing = [int(i) for i in ids if int(i) not in found]
        if missing:
            raise IndexError_(f"Milvus collection {self.collection} lacks passages {missing[:5]}; run: policybot index")
        matrix = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, pid in enumerate(ids):
            matrix[row] = found[int(pid)]
        return matrix


def _insert(client: Any, collection: str, rows: list[dict[str, Any]]) -> Any:
    return client.insert(collection, rows)


def _get_vectors(client: Any, collection: str, ids: list[int]) -> Any:
    return client.get(collection, ids=ids, output_fields=["vector"])


def filter_expression(where: Mapping[str, str], only: np.ndarray | None = None) -> str:
    """A Milvus boolean expression: each field equal to its value (quoted), and `id in [...]`.

    >>> filter_expression({"country": 'Côte "d"'}, np.array([3, 4]))
    'country == "Côte \\\\"d\\\\"" and id in [3, 4]'
    """
    parts = [f"{name} == {json.dumps(str(value), ensure_ascii=False)}" for name, value in sorted(where.items())]
    if only is not None:
        parts.append(f"id in [{', '.join(str(int(i)) for i in only)}]")
    return " and ".join(parts)


def check_reachable(settings: StoreSettings) -> None:
    """Connect now, so an unreachable Milvus is reported before any slow work."""
    _Connection(settings).call("answer", lambda c: c.list_collections())


def has_collection(settings: StoreSettings, collection: str) -> bool:
    return bool(_Connection(settings).call("list collections", lambda c: c.has_collection(collection)))


def drop_collection(settings: StoreSettings, collection: str) -> None:
    """Drop `collection` if it exists (pruning an old or abandoned version)."""
    conn = _Connection(settings)
    if conn.call("list collections", lambda c: c.has_collection(collection)):
        conn.call("drop a collection", lambda c: c.drop_collection(collection))
