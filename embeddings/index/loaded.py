"""One index version held in memory for answering (and as the base of the next build), and loading it."""

from __future__ import annotations

import functools
import logging
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.errors import IndexError_, last_line
from embeddings.index import acronyms
from embeddings.index.lexical import LexicalIndex
from embeddings.index.meta import (
    CHECKSUMMED_FORMATS,
    REBUILD_HINT,
    REPAIR_HINT,
    IndexMeta,
    check_compatible,
    check_store,
    read_meta,
)
from embeddings.index.milvus_collections import open_collection
from embeddings.index.passage_store import read_passages
from embeddings.index.versions import check_version, current_version_dir
from embeddings.passage import Passage
from embeddings.vectors.base import StoreSettings, VectorStore
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings

_WORDS = re.compile(r"[a-z0-9]+")
log = logging.getLogger(__name__)


@dataclass
class LoadedIndex:
    """One index version, held in memory for answering (and as the base of the next build)."""

    meta: IndexMeta
    vectors: VectorStore
    passages: dict[int, Passage]
    content_hashes: dict[int, str]
    sentence_vectors: Mapping[int, np.ndarray]  # float32 rows (a SentenceVectors holds them as float16)
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
        """BM25 over the passages, on first use (answering needs it, indexing does not): the one the
        version saved, memory-mapped, else (an older format) built from the texts."""
        try:
            saved = LexicalIndex.load(self.path, len(self.order))
        except (OSError, ValueError) as exc:  # checksummed, so only an older or hand-made folder
            log.warning("%s: rebuilding the keyword index: %s", self.path, exc)
            saved = None
        if saved is not None:
            return saved
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
        """The acronyms defined in the documents and how many passages use each form (as the build
        counted them; counted here for a version written before it recorded them)."""
        counts, definitions = self.meta.acronym_counts, self.meta.acronyms
        if definitions and set(counts) == set(definitions):
            return acronyms.AcronymUsage({s: (long, *counts[s]) for s, long in definitions.items()})  # type: ignore[misc]
        return acronyms.AcronymUsage.count(definitions, (p.context_text() for p in self.passages.values()))

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
        _ = self.lexical, self.vocabulary, self.acronym_usage, self._by_place  # _by_place: 0.7 s at 1M
        return self


def load_index(
    index_dir: Path,
    upgrading: bool = False,
    search: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
    token: str = "",
) -> LoadedIndex:
    """Load the published version (`search`: the FAISS search parameters; `store`: the configured
    vector store, which the index must have been built with; `token`: the Milvus token for a
    version kept in a Milvus that `store` does not name); a missing index says how to build one."""
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexError_(f"no index found in {index_dir}; build it with: policybot index")
    return load_version(version_dir, upgrading, search, store, token)


def load_version(
    version_dir: Path,
    upgrading: bool = False,
    search: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
    token: str = "",
) -> LoadedIndex:
    """Load one version folder, only if `check_version` finds every file as written (`upgrading`:
    an older format, without checksums, is read as it is); a damaged file is named with the
    command that repairs it. Without `store`, a Milvus version is read from the URI it was written to."""
    meta = read_meta(version_dir)
    if meta.format_version not in CHECKSUMMED_FORMATS:
        check_compatible(meta, meta.model, None, meta.splitter, upgrading)
    elif (problem := check_version(version_dir)) is not None:
        raise IndexError_(f"{version_dir}: the index is damaged: {problem}; {REPAIR_HINT}")
    if store is not None:
        check_store(meta, store, version_dir.parent.parent)
    passages_path = version_dir / "passages.sqlite"
    vectors = _open_vectors(version_dir, meta, search, store, token)
    try:
        passages, hashes, sentence_vectors = read_passages(passages_path, meta.dimension)
    except Exception as exc:  # sqlite3.DatabaseError, JSON or numpy errors
        raise IndexError_(f"{passages_path}: the index file is damaged ({last_line(exc)}); {REBUILD_HINT}") from exc
    if vectors.dimension != meta.dimension or vectors.count != len(passages):
        raise IndexError_(
            f"{version_dir}: {vectors.count} vectors but {len(passages)} passages (truncated?); {REBUILD_HINT}"
        )
    return LoadedIndex(meta, vectors, {p.id: p for p in passages}, hashes, sentence_vectors, version_dir)


def _open_vectors(
    version_dir: Path, meta: IndexMeta, search: VectorIndexSettings | None, store: StoreSettings | None, token: str
) -> VectorStore:
    if meta.vector_store == "milvus":
        return open_collection(version_dir, meta, store, token)
    vectors_path = version_dir / "vectors.faiss"
    try:
        return VectorIndex.load(vectors_path, search)
    except Exception as exc:  # FAISS raises RuntimeError with a C++ message
        raise IndexError_(f"{vectors_path}: the index file is damaged ({last_line(exc)}); {REBUILD_HINT}") from exc
