"""The index folder: versions written beside each other, published by renaming a pointer.

    index/CURRENT                      name of the published version
    index/versions/<id>/meta.json      format version, model, dimension, splitter settings
    index/versions/<id>/vectors.faiss  FAISS IndexIDMap2 of passage vectors (flat, IVF or HNSW), or
    index/versions/<id>/vectors.milvus.json  the Milvus collection holding them (vector_store.uri)
    index/versions/<id>/passages.sqlite
    index/versions/<id>/changes.json   what changed since the version before it
    index/changes.jsonl                one line per publication, newest last

A version is written to a temporary folder, fsynced, renamed into `versions/`, and only then
named in CURRENT (itself replaced atomically), so a crash never leaves a half-written index
in use and readers see one version or the other, never a mix. With Milvus, the version's own
collection is created and filled before that rename, and dropped when the version is pruned.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.atomic import atomic_write_text, fsync_path
from embeddings.errors import VectorStoreUnavailable
from embeddings.index.changes import log_change, write_changes
from embeddings.index.meta import IndexMeta
from embeddings.index.milvus_collections import collection_lost, drop_collection_of, fill_collection
from embeddings.index.passage_store import write_passages
from embeddings.passage import Passage
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings

log = logging.getLogger(__name__)

OnPublished = Callable[[str], None]  # told the version just published (replicas follow what it records)
KEEP_VERSIONS = 3
STALE_TEMP_SECONDS = 3600


def current_version_name(index_dir: Path) -> str | None:
    """The published version's id, or None when nothing is published."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def current_version_dir(index_dir: Path) -> Path | None:
    """The published version's folder, or None when nothing (or a folder since removed) is published."""
    name = current_version_name(index_dir)
    path = index_dir / "versions" / name if name else None
    return path if path is not None and path.is_dir() else None


def write_version(
    index_dir: Path,
    meta: IndexMeta,
    passages: list[Passage],
    hashes: dict[int, str],
    passage_vectors: np.ndarray,
    sentence_vectors: dict[int, np.ndarray],
    changes: dict[str, Any] | None = None,
    vector_settings: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
) -> Path:
    """Write a complete version folder beside the current one; it is not published yet.
    The vector index is built anew: a FAISS file of the kind `vector_settings` picks for its
    size, or (`store` names Milvus) a new collection, filled before the folder is renamed."""
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    final = versions / meta.version
    if final.is_dir() and (final / "meta.json").is_file():
        if not collection_lost(final, store):
            return final
        log.warning("rewriting index version %s: its Milvus collection is gone", meta.version)
        discard_version(final, store)
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta.version}.", dir=versions))
    try:
        ids = np.array([p.id for p in passages], dtype=np.int64)
        matrix = passage_vectors.reshape(-1, meta.dimension)
        if store is not None and store.kind == "milvus":
            fill_collection(tmp, store, meta, passages, ids, matrix)
        else:
            VectorIndex.build(meta.dimension, ids, matrix, vector_settings).save(tmp / "vectors.faiss")
        write_passages(tmp / "passages.sqlite", ((p, hashes[p.id], sentence_vectors[p.id]) for p in passages))
        write_changes(tmp, changes)
        (tmp / "meta.json").write_text(meta.to_json(), encoding="utf-8")
        for child in tmp.iterdir():
            fsync_path(child)
        fsync_path(tmp)
        tmp.rename(final)
        fsync_path(versions)
    except BaseException:
        try:
            discard_version(tmp, store)
        except VectorStoreUnavailable as exc:  # the folder names the collection: a later prune drops it
            log.warning("kept %s: %s", tmp.name, exc)
        raise
    return final


def publish(
    index_dir: Path, version: str, store: StoreSettings | None = None, on_published: OnPublished | None = None
) -> None:
    """Make `version` the one readers load, log its change digest, prune old versions, then tell
    `on_published` (which records it where replicas sharing a state database look)."""
    replaced = current_version_name(index_dir)  # logged first if a crash lost its entry
    atomic_write_text(index_dir / "CURRENT", version + "\n")
    log_change(index_dir, index_dir / "versions" / version, replaced)
    _prune(index_dir / "versions", keep=version, store=store)
    if on_published is not None:
        on_published(version)


def _prune(versions: Path, keep: str, store: StoreSettings | None = None) -> None:
    """Keep the newest few versions; drop older ones and temp folders left by crashed writes
    (with their Milvus collections)."""
    dirs = sorted((d for d in versions.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    old = [d for d in dirs if d.name != keep and not d.name.startswith(".")]
    stale = [d for d in dirs if d.name.startswith(".") and time.time() - d.stat().st_mtime > STALE_TEMP_SECONDS]
    for d in old[KEEP_VERSIONS - 1 :] + stale:
        try:
            discard_version(d, store)
        except VectorStoreUnavailable as exc:  # kept, to be dropped by a later run
            log.warning("kept old index folder %s: %s", d.name, exc)
            continue
        log.debug("removed old index folder %s", d.name)


def discard_version(folder: Path, store: StoreSettings | None = None) -> None:
    """Delete a version folder (or a temporary one) and its Milvus collection, if it has one."""
    drop_collection_of(folder, store)
    shutil.rmtree(folder, ignore_errors=True)
