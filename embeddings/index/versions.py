"""The index folder: versions written beside each other, published by renaming a pointer.

    index/CURRENT                      name of the published version
    index/versions/<id>/meta.json      format version, model, dimension, splitter settings, checksums
    index/versions/<id>/vectors.faiss  FAISS IndexIDMap2 of passage vectors (flat, IVF or HNSW), or
    index/versions/<id>/vectors.milvus.json  the Milvus collection holding them (vector_store.uri)
    index/versions/<id>/passages.sqlite   passage texts and metadata
    index/versions/<id>/sentences.f16     every sentence vector, raw float16 (read from the file when served)
    index/versions/<id>/lexical.*         the BM25 keyword index over the passages (memory-mapped)
    index/versions/<id>/changes.json   what changed since the version before it
    index/changes.jsonl                one line per publication, newest last
    index/damaged/<id>/                a version that failed its check, set aside with REASON.txt

meta.json, written last, records the SHA-256 of every other file of its version (and its own
checksum): a folder is a usable version only when `check_version` finds every file as written.
Writing, loading (and so reloading) and `policybot index --verify` all use that one check; a
version that fails it is set aside under `damaged/` and written anew, never reused.

A version is written to a temporary folder, fsynced, renamed into `versions/`, and only then
named in CURRENT (itself replaced atomically), so a crash never leaves a half-written index
in use and readers see one version or the other, never a mix. With Milvus, the version's own
collection is created and filled before that rename, and dropped when the version is pruned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.atomic import atomic_write_text, fsync_path
from embeddings.errors import VectorStoreUnavailable
from embeddings.index.changes import log_change, write_changes
from embeddings.index.lexical import LexicalIndex
from embeddings.index.meta import CHECKSUMMED_FORMATS, FORMAT_VERSION, UPGRADABLE_FORMATS, IndexMeta, meta_damage
from embeddings.index.milvus_collections import collection_lost, drop_collection_of, fill_collection
from embeddings.index.passage_store import write_passages
from embeddings.passage import Passage
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings

log = logging.getLogger(__name__)

OnPublished = Callable[[str], None]  # told the version just published (replicas follow what it records)
KEEP_VERSIONS = 3
OLDER_FORMAT = "not checked: format"  # how `check_version` begins for an older format, which is not damage
PRUNING = ".pruning"  # suffix of a version renamed aside to be deleted (never a version, deleted by any prune)
REASON_FILE = "REASON.txt"  # in a folder under damaged/: why it was set aside


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
    sentence_vectors: Mapping[int, np.ndarray],
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
    if final.exists():
        problem = check_version(final)
        if problem is None and not collection_lost(final, store):
            return final
        set_aside(index_dir, final, problem or "its Milvus collection is gone", store)
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta.version}.", dir=versions))
    try:
        ids = np.array([p.id for p in passages], dtype=np.int64)
        matrix = passage_vectors.reshape(-1, meta.dimension)
        if store is not None and store.kind == "milvus":
            fill_collection(tmp, store, meta, passages, ids, matrix)
        else:
            VectorIndex.build(meta.dimension, ids, matrix, vector_settings).save(tmp / "vectors.faiss")
        write_passages(tmp / "passages.sqlite", ((p, hashes[p.id], sentence_vectors[p.id]) for p in passages))
        in_reading_order = sorted(passages, key=lambda p: (p.doc, p.position))  # as loading reads them
        LexicalIndex([p.context_text() for p in in_reading_order]).save(tmp)
        write_changes(tmp, changes)
        files = {child.name: file_checksum(child) for child in sorted(tmp.iterdir())}
        (tmp / "meta.json").write_text(replace(meta, files=files).to_json(), encoding="utf-8")
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


def file_checksum(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_version(folder: Path) -> str | None:
    """What makes `folder` unusable as a version of the current format (None: every file it
    records is there and matches its checksum), e.g. "vectors.faiss does not match its checksum"."""
    try:
        raw = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no meta.json (an unfinished write or delete)"
    except (OSError, ValueError) as exc:
        return f"meta.json is unreadable ({exc})"
    if not isinstance(raw, dict):
        return "meta.json is unreadable (not an object)"
    if raw.get("format_version") in UPGRADABLE_FORMATS:
        return f"{OLDER_FORMAT} {raw['format_version']}, written without checksums by an older PolicyBot"
    if raw.get("format_version") not in CHECKSUMMED_FORMATS:
        return f"format version {raw.get('format_version')} (this PolicyBot writes {FORMAT_VERSION})"
    problem = meta_damage(raw)
    if problem is not None:
        return problem
    for name, expected in raw["files"].items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if file_checksum(path) != expected:
            return f"{name} does not match its checksum (damaged or truncated)"
    return None


def verify_versions(index_dir: Path) -> list[tuple[str, str | None]]:
    """(id, what is wrong or None) of every version folder, newest first, for `policybot index --verify`."""
    versions = index_dir / "versions"
    folders = [d for d in versions.iterdir() if d.is_dir() and not d.name.startswith(".")] if versions.is_dir() else []
    folders.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    return [(d.name, check_version(d)) for d in folders]


def set_aside_damaged(index_dir: Path, store: StoreSettings | None = None) -> dict[str, str]:
    """Move every version that fails `check_version` to `damaged/` (an older format is left for
    the upgrade); returns id -> reason. Run under the index lock, before a build."""
    damaged = {name: problem for name, problem in verify_versions(index_dir) if problem and is_damage(problem)}
    for name, problem in damaged.items():
        set_aside(index_dir, index_dir / "versions" / name, problem, store)
    return damaged


def is_damage(problem: str | None) -> bool:
    """True for a `check_version` finding that makes a version unusable (not an older format's)."""
    return problem is not None and not problem.startswith(OLDER_FORMAT)


def set_aside(index_dir: Path, folder: Path, reason: str, store: StoreSettings | None = None) -> Path:
    """Move a damaged version to `damaged/<id>/` with REASON.txt, so it is never reused (its Milvus
    collection is dropped: it is rebuilt anew)."""
    log.warning("set aside damaged index version %s: %s", folder.name, reason)
    target = index_dir / "damaged" / folder.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    try:
        drop_collection_of(folder, store)
    except VectorStoreUnavailable as exc:
        log.warning("could not drop the Milvus collection of %s: %s", folder.name, exc)
    folder.rename(target)
    fsync_path(folder.parent)
    (target / REASON_FILE).write_text(reason + "\n", encoding="utf-8")
    return target


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
    """Keep the newest few versions; drop older ones, then the temp folders left over."""
    dirs = sorted((d for d in versions.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    old = [d for d in dirs if d.name != keep and not d.name.startswith(".")]
    for d in old[KEEP_VERSIONS - 1 :]:  # renamed aside first: a kill mid-delete leaves no version-like folder
        d.rename(d.with_name(f".{d.name}{PRUNING}"))
    if old[KEEP_VERSIONS - 1 :]:
        fsync_path(versions)
    discard_leftovers(versions.parent, store)


def discard_leftovers(index_dir: Path, store: StoreSettings | None = None) -> None:
    """Delete the temp folders (with their Milvus collections) that crashed writes or prunes left,
    and old versions renamed aside: under the index lock, no other write runs."""
    versions = index_dir / "versions"
    stale = [d for d in versions.iterdir() if d.is_dir() and d.name.startswith(".")] if versions.is_dir() else []
    for d in stale:
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
