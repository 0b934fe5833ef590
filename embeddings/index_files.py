"""The index folder: versions written beside each other, published by renaming a pointer.

    index/CURRENT                      name of the published version
    index/versions/<id>/meta.json      format version, model, dimension, splitter settings
    index/versions/<id>/vectors.faiss  FAISS IndexIDMap2(IndexFlatIP) of passage vectors
    index/versions/<id>/passages.sqlite

A version is written to a temporary folder, fsynced, renamed into `versions/`, and only then
named in CURRENT (itself replaced atomically), so a crash never leaves a half-written index
in use.
"""

from __future__ import annotations

import functools
import json
import logging
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
from embeddings.lexical import LexicalIndex
from embeddings.passage import Passage
from embeddings.passage_store import read_passages, write_passages
from embeddings.vector_index import VectorIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REBUILD_HINT = "rebuild it with: policybot index --full"
KEEP_VERSIONS = 2
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
    documents: list[str] = field(default_factory=list)
    created: str = ""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"


@dataclass
class LoadedIndex:
    """A published index version, held in memory for answering."""

    meta: IndexMeta
    vectors: VectorIndex
    passages: dict[int, Passage]
    content_hashes: dict[int, str]
    sentence_vectors: dict[int, np.ndarray]
    path: Path
    lists: dict[str, list[Passage]] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # passage ids in corpus (document) order
    positions: dict[int, int] = field(default_factory=dict)  # passage id -> place in `order`
    lexical: LexicalIndex = field(init=False)

    def __post_init__(self) -> None:
        self.order = list(self.passages)
        self.positions = {pid: i for i, pid in enumerate(self.order)}
        self.lexical = LexicalIndex([self.passages[pid].context_text() for pid in self.order])
        grouped: dict[str, list[Passage]] = defaultdict(list)
        for passage in self.passages.values():
            if passage.list_id:
                grouped[passage.list_id].append(passage)
        self.lists = {k: sorted(v, key=lambda p: p.position) for k, v in grouped.items()}

    @property
    def version(self) -> str:
        return self.meta.version

    def countries(self) -> set[str]:
        return {str(p.metadata["country"]) for p in self.passages.values() if p.metadata.get("country")}

    @functools.cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every lower-case word of the passages, headings and metadata, for name checks."""
        words: set[str] = set()
        for p in self.passages.values():
            text = " ".join((p.title, *p.section, p.text, *map(str, p.metadata.values())))
            words.update(_WORDS.findall(text.lower()))
        return frozenset(words)

    def passage_vector(self, passage_id: int) -> np.ndarray:
        return np.asarray(self.vectors._index.reconstruct(int(passage_id)), dtype=np.float32)


def current_version_dir(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = index_dir / "versions" / name
    return path if name and path.is_dir() else None


def read_meta(version_dir: Path) -> IndexMeta:
    meta_path = version_dir / "meta.json"
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
        known = {k: raw[k] for k in IndexMeta.__dataclass_fields__ if k in raw}
        return IndexMeta(**known)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexError_(f"{meta_path}: unreadable index metadata ({exc}); {REBUILD_HINT}") from exc


def check_compatible(meta: IndexMeta, model: str, dimension: int | None, splitter: dict[str, Any]) -> None:
    """Refuse an index built differently from the configuration, saying how it differs."""
    if meta.format_version != FORMAT_VERSION:
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


def load_index(index_dir: Path) -> LoadedIndex:
    """Load the published version; a missing index says how to build one."""
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexError_(f"no index found in {index_dir}; build it with: policybot index")
    meta = read_meta(version_dir)
    if meta.format_version != FORMAT_VERSION:
        check_compatible(meta, meta.model, None, meta.splitter)
    try:
        vectors = VectorIndex.load(version_dir / "vectors.faiss")
        passages, hashes, sentence_vectors = read_passages(version_dir / "passages.sqlite", meta.dimension)
    except Exception as exc:  # FAISS raises RuntimeError, SQLite DatabaseError, numpy ValueError
        raise IndexError_(f"{version_dir}: the index is damaged ({exc}); {REBUILD_HINT}") from exc
    if vectors.dimension != meta.dimension or vectors.count != len(passages):
        raise IndexError_(f"{version_dir}: vectors and passages disagree; {REBUILD_HINT}")
    return LoadedIndex(meta, vectors, {p.id: p for p in passages}, hashes, sentence_vectors, version_dir)


def publish_version(
    index_dir: Path,
    meta: IndexMeta,
    passages: list[Passage],
    hashes: dict[int, str],
    passage_vectors: np.ndarray,
    sentence_vectors: dict[int, np.ndarray],
) -> Path:
    """Write a complete new version beside the current one, then switch CURRENT to it."""
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    final = versions / meta.version
    if final.is_dir() and (final / "meta.json").is_file():
        atomic_write_text(index_dir / "CURRENT", meta.version + "\n")
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta.version}.", dir=versions))
    try:
        vectors = VectorIndex(meta.dimension)
        if passages:
            vectors.add(np.array([p.id for p in passages], dtype=np.int64), passage_vectors)
        vectors.save(tmp / "vectors.faiss")
        write_passages(tmp / "passages.sqlite", ((p, hashes[p.id], sentence_vectors[p.id]) for p in passages))
        (tmp / "meta.json").write_text(meta.to_json(), encoding="utf-8")
        for child in tmp.iterdir():
            fsync_path(child)
        fsync_path(tmp)
        tmp.rename(final)
        fsync_path(versions)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_text(index_dir / "CURRENT", meta.version + "\n")
    _prune(versions, keep=meta.version)
    return final


def _prune(versions: Path, keep: str) -> None:
    """Keep the newest few versions; drop older ones and temp folders left by crashed writes."""
    dirs = sorted((d for d in versions.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    old = [d for d in dirs if d.name != keep and not d.name.startswith(".")]
    stale = [d for d in dirs if d.name.startswith(".") and time.time() - d.stat().st_mtime > STALE_TEMP_SECONDS]
    for d in old[KEEP_VERSIONS - 1 :] + stale:
        shutil.rmtree(d, ignore_errors=True)
        log.debug("removed old index folder %s", d.name)
