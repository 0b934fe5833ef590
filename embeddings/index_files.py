"""The index folder: versions written beside each other, published by renaming a pointer.

    index/CURRENT                      name of the published version
    index/versions/<id>/meta.json      format version, model, dimension, splitter settings
    index/versions/<id>/vectors.faiss  FAISS IndexIDMap2 of passage vectors (flat, IVF or HNSW)
    index/versions/<id>/passages.sqlite
    index/versions/<id>/changes.json   what changed since the version before it
    index/changes.jsonl                one line per publication, newest last

A version is written to a temporary folder, fsynced, renamed into `versions/`, and only then
named in CURRENT (itself replaced atomically), so a crash never leaves a half-written index
in use and readers see one version or the other, never a mix.
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

from embeddings import acronyms
from embeddings.atomic import atomic_write_text, fsync_path
from embeddings.errors import IndexError_
from embeddings.lexical import LexicalIndex
from embeddings.passage import Passage
from embeddings.passage_store import read_passages, write_passages
from embeddings.vector_index import VectorIndex, VectorIndexSettings

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
# Older formats whose vectors and passages are still valid: `policybot index` upgrades them
# without re-embedding (3 only added the acronym table to meta.json).
UPGRADABLE_FORMATS = frozenset({2})
REBUILD_HINT = "rebuild it with: policybot index --full"
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
    vector_index: str = "flat"  # what vectors.faiss holds: "flat", "ivf nlist=632", "hnsw m=32 ..."

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


@dataclass
class LoadedIndex:
    """One index version, held in memory for answering (and as the base of the next build)."""

    meta: IndexMeta
    vectors: VectorIndex
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
    def acronym_usage(self) -> dict[str, tuple[str, int, int]]:
        """Acronym -> (long form, passages using the acronym, passages using the long form)."""
        texts = [p.context_text() for p in self.passages.values()]
        lowered = [t.lower() for t in texts]
        return {
            short: (
                long,
                sum(acronyms.uses_short(t, short) for t in texts),
                sum(long.lower() in t for t in lowered),
            )
            for short, long in self.meta.acronyms.items()
        }

    def passage_vector(self, passage_id: int) -> np.ndarray:
        return self.vectors.reconstruct(passage_id)

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


def load_index(index_dir: Path, upgrading: bool = False, search: VectorIndexSettings | None = None) -> LoadedIndex:
    """Load the published version (`search`: the vector search parameters); a missing index
    says how to build one."""
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexError_(f"no index found in {index_dir}; build it with: policybot index")
    return load_version(version_dir, upgrading, search)


def load_version(version_dir: Path, upgrading: bool = False, search: VectorIndexSettings | None = None) -> LoadedIndex:
    """Load one version folder; a damaged file is named with the command that rebuilds it."""
    meta = read_meta(version_dir)
    if meta.format_version != FORMAT_VERSION:
        check_compatible(meta, meta.model, None, meta.splitter, upgrading)
    vectors_path, passages_path = version_dir / "vectors.faiss", version_dir / "passages.sqlite"
    try:
        vectors = VectorIndex.load(vectors_path, search)
    except Exception as exc:  # FAISS raises RuntimeError with a C++ message
        raise IndexError_(f"{vectors_path}: the index file is damaged ({_first_line(exc)}); {REBUILD_HINT}") from exc
    try:
        passages, hashes, sentence_vectors = read_passages(passages_path, meta.dimension)
    except Exception as exc:  # sqlite3.DatabaseError, JSON or numpy errors
        raise IndexError_(f"{passages_path}: the index file is damaged ({_first_line(exc)}); {REBUILD_HINT}") from exc
    if vectors.dimension != meta.dimension or vectors.count != len(passages):
        raise IndexError_(
            f"{version_dir}: {vectors.count} vectors but {len(passages)} passages (truncated?); {REBUILD_HINT}"
        )
    return LoadedIndex(meta, vectors, {p.id: p for p in passages}, hashes, sentence_vectors, version_dir)


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
) -> Path:
    """Write a complete version folder beside the current one; it is not published yet.
    The vector index is built anew, of the kind `vector_settings` picks for its size."""
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    final = versions / meta.version
    if final.is_dir() and (final / "meta.json").is_file():
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta.version}.", dir=versions))
    try:
        ids = np.array([p.id for p in passages], dtype=np.int64)
        vectors = VectorIndex.build(meta.dimension, ids, passage_vectors.reshape(-1, meta.dimension), vector_settings)
        vectors.save(tmp / "vectors.faiss")
        write_passages(tmp / "passages.sqlite", ((p, hashes[p.id], sentence_vectors[p.id]) for p in passages))
        (tmp / "changes.json").write_text(json.dumps(changes or {}, indent=2) + "\n", encoding="utf-8")
        (tmp / "meta.json").write_text(meta.to_json(), encoding="utf-8")
        for child in tmp.iterdir():
            fsync_path(child)
        fsync_path(tmp)
        tmp.rename(final)
        fsync_path(versions)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def publish(index_dir: Path, version: str) -> None:
    """Make `version` the one readers load, log its change digest, and prune old versions."""
    atomic_write_text(index_dir / "CURRENT", version + "\n")
    changes_path = index_dir / "versions" / version / "changes.json"
    if changes_path.is_file():
        entry = json.loads(changes_path.read_text(encoding="utf-8"))
        with open(index_dir / "changes.jsonl", "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps({"version": version, **entry}) + "\n")
            log_file.flush()
            os.fsync(log_file.fileno())
    _prune(index_dir / "versions", keep=version)


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


def _prune(versions: Path, keep: str) -> None:
    """Keep the newest few versions; drop older ones and temp folders left by crashed writes."""
    dirs = sorted((d for d in versions.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    old = [d for d in dirs if d.name != keep and not d.name.startswith(".")]
    stale = [d for d in dirs if d.name.startswith(".") and time.time() - d.stat().st_mtime > STALE_TEMP_SECONDS]
    for d in old[KEEP_VERSIONS - 1 :] + stale:
        shutil.rmtree(d, ignore_errors=True)
        log.debug("removed old index folder %s", d.name)
