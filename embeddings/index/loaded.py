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

import functools
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.atomic import atomic_write_text, fsync_path
from embeddings.errors import IndexError_
from embeddings.index import acronyms
from embeddings.index.lexical import LexicalIndex
from embeddings.index.passage_store import read_passages, write_passages
from embeddings.passage import Passage
from embeddings.vectors.base import TOKEN_ENV, StoreSettings, VectorStore, VectorStoreUnavailable
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
# Older formats whose vectors and passages are still valid: `policybot index` upgrades them
# without re-embedding (3 only added the acronym table to meta.json).
UPGRADABLE_FORMATS = frozenset({2})
REBUILD_HINT = "rebuild it with: policybot index --full"
MILVUS_FILE = "vectors.milvus.json"  # {"uri", "collection", "count"} of a version kept in Milvus
KEEP_VERSIONS = 3
STALE_TEMP_SECONDS = 3600
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class IndexMeta:
    """What an index was built with; a mismatch with the configuration forces a rebuild."""

    model: str
    dimension: int
    splitter: dict[str, Any]
    version: str = ""
    format_version: int = FORMAT_VERSION
    passages: int = 0
    documents: dict[str, str] = field(default_factory=dict)  # path -> content digest
    acronyms: dict[str, str] = field(default_factory=dict)  # "AMP" -> "Advanced Manufacturing Partnership"
    created: str = ""
    vector_index: str = "flat"  # what vectors.faiss holds: "flat", "ivf nlist=632", "hnsw m=32 ..."; "milvus HNSW"
    vector_store: str = "faiss"  # faiss or milvus

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


@dataclass
class LoadedIndex:
    """One index version, held in memory for answering (and as the base of the next build)."""

    meta: IndexMeta
    vectors: VectorStore
    passages: dict[int, Passage]
    content_hashes: dict[int, str]
    sentence_vectors: dict[int, np.ndarray]
    path: Path
    lists: dict[str, list[Passage]] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # passage ids in corpus (document) order
    positions: dict[int, int] = field(default_factory=dict)  # passage id -> place in `order`

    def __post_init__(self) -> None:
        self.order = list(self.passages)
        self.positions = {pid: i for i, pid in enumerate(self.order)}
        grouped: dict[str, list[Passage]] = defaultdict(list)
        for passage in self.passages.values():
            if passage.list_id:
                grouped[passage.list_id].append(passage)
        self.lists = {k: sorted(v, key=lambda p: p.position) for k, v in grouped.items()}

    @property
    def version(self) -> str:
        return self.meta.version

    @functools.cached_property
    def lexical(self) -> LexicalIndex:
        """BM25 over the passages, built on first use (answering needs it, indexing does not)."""
        return LexicalIndex([self.passages[pid].context_text() for pid in self.order])

    def countries(self) -> set[str]:
        return set(self.country_ids)

    @functools.cached_property
    def country_ids(self) -> dict[str, np.ndarray]:
        """Country (as the documents name it) -> ids of its passages, for filtered search."""
        grouped: dict[str, list[int]] = defaultdict(list)
        for p in self.passages.values():
            if p.metadata.get("country"):
                grouped[str(p.metadata["country"])].append(p.id)
        return {country: np.array(ids, dtype=np.int64) for country, ids in grouped.items()}

    @functools.cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every lower-case word of the passages, headings and metadata, for name checks."""
        words: set[str] = set()
        for p in self.passages.values():
            text = " ".join((p.title, *p.section, p.text, *map(str, p.metadata.values())))
            words.update(_WORDS.findall(text.lower()))
        return frozenset(words)

    @functools.cached_property
    def acronym_usage(self) -> acronyms.AcronymUsage:
        """The acronyms defined in the documents and how many passages use each form."""
        return acronyms.AcronymUsage.count(self.meta.acronyms, (p.context_text() for p in self.passages.values()))

    @functools.cached_property
    def _by_place(self) -> dict[tuple[str, int], Passage]:
        return {(p.doc, p.position): p for p in self.passages.values()}

    def preceding(self, passage: Passage) -> Passage | None:
        """The paragraph just before `passage` under the same heading (the first part of a long
        paragraph cut in two, or simply the paragraph before), or None."""
        before = self._by_place.get((passage.doc, passage.position - 1))
        if before is None or before.section != passage.section or before.kind != "paragraph":
            return None
        return before if before.sentences else None

    def subsections(self, passage: Passage) -> list[tuple[str, Passage]]:
        """The sections right below `passage`'s own when it is the last paragraph before them (an
        introduction ending "... two reports:"): each one's heading and first passage, in order."""
        depth = len(passage.section)
        found: list[tuple[str, Passage]] = []
        position = passage.position + 1
        while (after := self._by_place.get((passage.doc, position))) is not None:
            if len(after.section) <= depth or after.section[:depth] != passage.section:
                break
            if not found or found[-1][0] != after.section[depth]:
                found.append((after.section[depth], after))
            position += 1
        return found

    @functools.cached_property
    def doc_ids(self) -> dict[str, np.ndarray]:
        """Document path -> ids of its passages, for filtered search."""
        grouped: dict[str, list[int]] = defaultdict(list)
        for p in self.passages.values():
            grouped[p.doc].append(p.id)
        return {doc: np.array(ids, dtype=np.int64) for doc, ids in grouped.items()}

    def search(
        self, query: np.ndarray, k: int, country: str | None = None, doc: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` nearest passages (scores, ids), of one country and/or document if given: a store
        that filters on fields (Milvus) gets the filter as an expression, FAISS the passage ids."""
        where = {name: value for name, value in (("country", country), ("doc", doc)) if value}
        if not where or set(where) <= self.vectors.filter_fields:
            return self.vectors.search(query, k, where=where or None)
        none = np.zeros(0, dtype=np.int64)
        only = self.country_ids.get(country, none) if country else None
        if doc:
            ids = self.doc_ids.get(doc, none)
            only = ids if only is None else np.intersect1d(only, ids)
        return self.vectors.search(query, k, only)

    def passage_vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of several passages in one request (Milvus: one round trip)."""
        return self.vectors.reconstruct_many(np.asarray(ids, dtype=np.int64))

    def warm(self) -> LoadedIndex:
        """Build the lazily built parts now, so the first question after a switch is not slow."""
        _ = self.lexical, self.vocabulary, self.acronym_usage
        return self


def current_version_name(index_dir: Path) -> str | None:
    """The published version's id, or None when nothing is published."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def current_version_dir(index_dir: Path) -> Path | None:
    name = current_version_name(index_dir)
    path = index_dir / "versions" / name if name else None
    return path if path is not None and path.is_dir() else None


def read_meta(version_dir: Path) -> IndexMeta:
    meta_path = version_dir / "meta.json"
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
        known = {k: raw[k] for k in IndexMeta.__dataclass_fields__ if k in raw}
        return IndexMeta(**known)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexError_(f"{meta_path}: unreadable index metadata ({exc}); {REBUILD_HINT}") from exc


def check_compatible(
    meta: IndexMeta, model: str, dimension: int | None, splitter: dict[str, Any], upgrading: bool = False
) -> None:
    """Refuse an index built differently from the configuration, saying how it differs
    (`upgrading`: an older format whose vectors can be reused is accepted too)."""
    if meta.format_version != FORMAT_VERSION and not (upgrading and meta.format_version in UPGRADABLE_FORMATS):
        raise IndexError_(
            f"the index has format version {meta.format_version}, this PolicyBot reads {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if meta.model != model:
        raise IndexError_(f"the index was built with model {meta.model!r}, config.yaml names {model!r}; {REBUILD_HINT}")
    if dimension is not None and meta.dimension != dimension:
        raise IndexError_(
            f"the index has dimension {meta.dimension}, the model {model!r} gives {dimension}; {REBUILD_HINT}"
        )
    if meta.splitter != splitter:
        raise IndexError_(f"the index was split with {meta.splitter}, config.yaml says {splitter}; {REBUILD_HINT}")


def load_index(
    index_dir: Path,
    upgrading: bool = False,
    search: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
) -> LoadedIndex:
    """Load the published version (`search`: the FAISS search parameters; `store`: the configured
    vector store, which the index must have been built with); a missing index says how to build one."""
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexError_(f"no index found in {index_dir}; build it with: policybot index")
    return load_version(version_dir, upgrading, search, store)


def check_store(meta: IndexMeta, store: StoreSettings, index_dir: Path) -> None:
    """Refuse an index whose vectors are in another store than config.yaml's `vector_store.uri` names."""
    if meta.vector_store != store.kind:
        raise IndexError_(
            f"{index_dir} was built with {meta.vector_store}; config.yaml sets vector_store.uri={store.shown}: "
            "run policybot index (it moves the stored vectors, without re-embedding)"
        )


def load_version(
    version_dir: Path,
    upgrading: bool = False,
    search: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
) -> LoadedIndex:
    """Load one version folder; a damaged file is named with the command that rebuilds it.
    Without `store`, a Milvus version is read from the URI it was written to."""
    meta = read_meta(version_dir)
    if meta.format_version != FORMAT_VERSION:
        check_compatible(meta, meta.model, None, meta.splitter, upgrading)
    if store is not None:
        check_store(meta, store, version_dir.parent.parent)
    passages_path = version_dir / "passages.sqlite"
    vectors = _open_vectors(version_dir, meta, search, store)
    try:
        passages, hashes, sentence_vectors = read_passages(passages_path, meta.dimension)
    except Exception as exc:  # sqlite3.DatabaseError, JSON or numpy errors
        raise IndexError_(f"{passages_path}: the index file is damaged ({_first_line(exc)}); {REBUILD_HINT}") from exc
    if vectors.dimension != meta.dimension or vectors.count != len(passages):
        raise IndexError_(
            f"{version_dir}: {vectors.count} vectors but {len(passages)} passages (truncated?); {REBUILD_HINT}"
        )
    return LoadedIndex(meta, vectors, {p.id: p for p in passages}, hashes, sentence_vectors, version_dir)


def _open_vectors(
    version_dir: Path, meta: IndexMeta, search: VectorIndexSettings | None, store: StoreSettings | None
) -> VectorStore:
    if meta.vector_store == "milvus":
        from embeddings.vectors.milvus import MilvusVectors

        location = _milvus_location(version_dir)
        return MilvusVectors.open(_milvus_settings(store, location), location["collection"], meta.dimension)
    vectors_path = version_dir / "vectors.faiss"
    try:
        return VectorIndex.load(vectors_path, search)
    except Exception as exc:  # FAISS raises RuntimeError with a C++ message
        raise IndexError_(f"{vectors_path}: the index file is damaged ({_first_line(exc)}); {REBUILD_HINT}") from exc


def _milvus_location(version_dir: Path) -> dict[str, str]:
    path = version_dir / MILVUS_FILE
    try:
        location = json.loads(path.read_text(encoding="utf-8"))
        return {"uri": str(location["uri"]), "collection": str(location["collection"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexError_(f"{path}: unreadable ({_first_line(exc)}); {REBUILD_HINT}") from exc


def _milvus_settings(store: StoreSettings | None, location: dict[str, str]) -> StoreSettings:
    """The configured Milvus, or else the one the version was written to (its token, if any,
    from the environment)."""
    if store is not None and store.kind == "milvus":
        return store
    return StoreSettings(uri=location["uri"]).with_token(os.environ.get(TOKEN_ENV, ""))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


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
        if not _collection_lost(final, store):
            return final
        log.warning("rewriting index version %s: its Milvus collection is gone", meta.version)
        discard_version(final, store)
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta.version}.", dir=versions))
    try:
        ids = np.array([p.id for p in passages], dtype=np.int64)
        matrix = passage_vectors.reshape(-1, meta.dimension)
        if store is not None and store.kind == "milvus":
            _write_milvus(tmp, store, meta, passages, ids, matrix)
        else:
            VectorIndex.build(meta.dimension, ids, matrix, vector_settings).save(tmp / "vectors.faiss")
        write_passages(tmp / "passages.sqlite", ((p, hashes[p.id], sentence_vectors[p.id]) for p in passages))
        (tmp / "changes.json").write_text(json.dumps(changes or {}, indent=2) + "\n", encoding="utf-8")
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


def _collection_lost(version_dir: Path, store: StoreSettings | None) -> bool:
    """True when a version kept in Milvus names a collection `store` no longer has."""
    if store is None or store.kind != "milvus" or not (version_dir / MILVUS_FILE).is_file():
        return False
    from embeddings.vectors.milvus import has_collection

    try:
        return not has_collection(store, _milvus_location(version_dir)["collection"])
    except IndexError_:
        return True


def _write_milvus(
    folder: Path, store: StoreSettings, meta: IndexMeta, passages: list[Passage], ids: np.ndarray, matrix: np.ndarray
) -> None:
    """Fill a new collection; its name is written first, so a crash leaves a name to drop it by."""
    from embeddings.vectors.milvus import MilvusVectors, collection_name

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


def publish(index_dir: Path, version: str, store: StoreSettings | None = None) -> None:
    """Make `version` the one readers load, log its change digest, and prune old versions."""
    atomic_write_text(index_dir / "CURRENT", version + "\n")
    changes_path = index_dir / "versions" / version / "changes.json"
    if changes_path.is_file():
        entry = json.loads(changes_path.read_text(encoding="utf-8"))
        with open(index_dir / "changes.jsonl", "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps({"version": version, **entry}) + "\n")
            log_file.flush()
            os.fsync(log_file.fileno())
    _prune(index_dir / "versions", keep=version, store=store)


def version_changes(version_dir: Path) -> dict[str, Any]:
    """The change digest written with one version ({} when it has none)."""
    try:
        entry: dict[str, Any] = json.loads((version_dir / "changes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"version": version_dir.name, **entry}


def read_changes(index_dir: Path, count: int = 1) -> list[dict[str, Any]]:
    """The last `count` change digests, newest first."""
    path = index_dir / "changes.jsonl"
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a torn last line after a crash
    return entries[::-1][:count]


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
    if (folder / MILVUS_FILE).is_file():
        try:
            location = _milvus_location(folder)
        except IndexError_:
            location = None
        if location is not None:
            from embeddings.vectors.milvus import drop_collection

            drop_collection(_milvus_settings(store, location), location["collection"])
    shutil.rmtree(folder, ignore_errors=True)
