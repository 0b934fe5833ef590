"""Index versions whose vectors are kept in Milvus: each version folder names its own collection.

The folder's `vectors.milvus.json` holds {"uri", "collection", "count"}. It is written before the
collection is filled, so a crash leaves a name to drop the collection by; the collection is
filled before the folder is renamed into place, and dropped with the folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from embeddings.errors import IndexError_, last_line
from embeddings.index.meta import REBUILD_HINT, IndexMeta
from embeddings.passage import Passage
from embeddings.vectors.base import StoreSettings, VectorStore
from embeddings.vectors.milvus import MilvusVectors, collection_name, drop_collection, has_collection

MILVUS_FILE = "vectors.milvus.json"  # {"uri", "collection", "count"} of a version kept in Milvus


def open_collection(version_dir: Path, meta: IndexMeta, store: StoreSettings | None, token: str = "") -> VectorStore:
    """The vectors of a version kept in Milvus: the configured Milvus, or else the one it was written to."""
    location = _location(version_dir)
    return MilvusVectors.open(_settings(store, location, token), location["collection"], meta.dimension)


def fill_collection(
    folder: Path, store: StoreSettings, meta: IndexMeta, passages: list[Passage], ids: np.ndarray, matrix: np.ndarray
) -> None:
    """Fill a new collection; its name is written first, so a crash leaves a name to drop it by."""
    collection = collection_name(store, meta.version)
    location = {"uri": store.uri, "collection": collection, "count": len(ids)}
    (folder / MILVUS_FILE).write_text(json.dumps(location, indent=2) + "\n", encoding="utf-8")
    fields = {
        "country": [str(p.metadata.get("country") or "") for p in passages],
        "doc": [p.doc for p in passages],
    }
    vectors = MilvusVectors.create(store, collection, meta.dimension, ids, matrix, fields)
    if vectors.count != len(ids):
        raise IndexError_(f"Milvus at {store.shown} holds {vectors.count} of {len(ids)} vectors in {collection}")


def collection_lost(version_dir: Path, store: StoreSettings | None) -> bool:
    """True when a version kept in Milvus names a collection `store` no longer has."""
    if store is None or store.kind != "milvus" or not (version_dir / MILVUS_FILE).is_file():
        return False
    try:
        return not has_collection(store, _location(version_dir)["collection"])
    except IndexError_:
        return True


def drop_collection_of(folder: Path, store: StoreSettings | None) -> None:
    """Drop the collection a version (or temporary) folder names, if it names one."""
    if not (folder / MILVUS_FILE).is_file():
        return
    try:
        location = _location(folder)
    except IndexError_:
        return
    drop_collection(_settings(store, location), location["collection"])


def _location(version_dir: Path) -> dict[str, str]:
    path = version_dir / MILVUS_FILE
    try:
        location = json.loads(path.read_text(encoding="utf-8"))
        return {"uri": str(location["uri"]), "collection": str(location["collection"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexError_(f"{path}: unreadable ({last_line(exc)}); {REBUILD_HINT}") from exc


def _settings(store: StoreSettings | None, location: dict[str, str], token: str = "") -> StoreSettings:
    """The configured Milvus, or else the one the version was written to, with `token` or the
    configured POLICYBOT_MILVUS_TOKEN (which `store` carries whatever its kind)."""
    if store is not None and store.kind == "milvus":
        return store
    return StoreSettings(uri=location["uri"]).with_token(token or (store.token if store is not None else ""))
