"""Build or update the index from the knowledge folder, re-embedding only what changed.

Unchanged documents reuse their passages and vectors from the published version; changed
and new passages are embedded; passages of edited or deleted documents that no longer exist
are dropped. A new version is written beside the current one, optionally checked by a gate
(the evaluation set), and only then published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections import ChainMap, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.embedder import Embedder
from embeddings.errors import DocumentError, IndexError_
from embeddings.index import acronyms
from embeddings.index.changes import describe_changes
from embeddings.index.loaded import LoadedIndex, load_index
from embeddings.index.lock import index_lock
from embeddings.index.meta import FORMAT_VERSION, REBUILD_HINT, UPGRADABLE_FORMATS, IndexMeta, check_compatible
from embeddings.index.versions import (
    OnPublished,
    current_version_name,
    discard_leftovers,
    discard_version,
    publish,
    set_aside_damaged,
    write_version,
)
from embeddings.ingest.documents import Document, ReadLimits, scan_knowledge
from embeddings.ingest.splitter import SPLIT_RULES, SplitterSettings, split_document
from embeddings.passage import Passage, content_hash
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.faiss import VectorIndexSettings

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (texts embedded so far, total texts)
Gate = Callable[[Path], tuple[bool, str]]  # new version folder -> (publish?, report)


@dataclass
class IndexReport:
    """What an `index` run did (or, with dry_run, would do)."""

    documents: int = 0
    passages: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_texts: int = 0
    problems: list[DocumentError] = field(default_factory=list)
    version: str = ""
    previous_version: str = ""
    published: bool = False
    kept_aside: Path | None = None
    gate_report: str = ""
    rebuilt_because: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.dry_run:
            counts = f"would add {self.added}, change {self.changed}, remove {self.removed}; {self.unchanged} unchanged"
            state = "dry run: nothing written"
        else:
            counts = f"{self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged"
            if self.kept_aside is not None:
                state = f"index {self.version} kept aside (not published): {self.kept_aside}"
            elif self.published:
                state = f"index {self.version} published"
            else:
                state = f"index {self.version or '(none)'} unchanged"
        return (
            f"{self.documents} documents, {self.passages} passages: {counts}; {len(self.problems)} problems; "
            f"{state} in {self.seconds:.1f}s"
        )


def build_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    splitter: SplitterSettings,
    full: bool = False,
    progress: Progress | None = None,
    dry_run: bool = False,
    gate: Gate | None = None,
    force: bool = False,
    limits: ReadLimits | None = None,
    vector_index: VectorIndexSettings | None = None,
    store: StoreSettings | None = None,
    on_published: OnPublished | None = None,
) -> IndexReport:
    """Index `knowledge_dir` into `index_dir`; one run at a time per index folder.
    `vector_index` picks the FAISS index kind (default: exact up to 50,000 passages, IVF above);
    `store` where the vectors go (default FAISS files; Milvus: one collection per version).
    Vectors already stored are reused from the published version whichever store holds them.
    `on_published(version)` is told under the lock, once the version is published or found up to
    date (so a record that failed before is made again); not by a dry run, a version the gate
    keeps aside, or an empty knowledge folder."""
    vector_index = vector_index or VectorIndexSettings()
    store = store or StoreSettings()
    args = (knowledge_dir, index_dir, embedder, splitter, full, progress)
    if dry_run:
        return _build(*args, True, None, force, limits, vector_index, store, None)
    try:
        with index_lock(index_dir):
            return _build(*args, False, gate, force, limits, vector_index, store, on_published)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only folder: say so, the old version serves
        current = current_version_name(index_dir)
        serving = f"the published version {current} still serves" if current else "nothing was published"
        reason = getattr(exc, "strerror", None) or str(exc).strip().splitlines()[-1]
        raise IndexError_(
            f"cannot write the index in {index_dir} ({reason}); {serving}. "
            "Free disk space or make the folder writable, then run: policybot index"
        ) from exc


def _build(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    splitter: SplitterSettings,
    full: bool,
    progress: Progress | None,
    dry_run: bool,
    gate: Gate | None,
    force: bool,
    limits: ReadLimits | None,
    vector_index: VectorIndexSettings,
    store: StoreSettings,
    on_published: OnPublished | None,
) -> IndexReport:
    started = time.perf_counter()
    report = IndexReport(dry_run=dry_run)
    if not knowledge_dir.is_dir():
        raise IndexError_(f"knowledge folder {knowledge_dir} does not exist")
    documents, report.problems = scan_knowledge(knowledge_dir, limits)  # the caller reports them, once
    report.documents = len(documents)
    if not documents:  # nothing to answer from: replicas keep serving what they have
        on_published = None
    if not dry_run:  # under the lock: no damaged version is reused or copied from, no leftover stays
        discard_leftovers(index_dir, store)  # even when nothing new is published (a kill mid-prune)
        damaged = set_aside_damaged(index_dir, store)
        if (published := current_version_name(index_dir)) in damaged:
            report.rebuilt_because = f"the published version {published} was damaged: {damaged[str(published)]}"
    previous = None if full else _previous_index(index_dir, embedder, splitter, report, store.token)
    report.previous_version = previous.version if previous else ""
    fingerprint = splitter.fingerprint()

    passages, hashes, digests = _passages(documents, previous, splitter, embedder.name, fingerprint)
    todo = _tally(report, passages, hashes, digests, previous)
    vector_kind = vector_index.describe(len(passages)) if store.kind == "faiss" else f"milvus {store.milvus_index}"
    version = _version_id(embedder.name, fingerprint, hashes, vector_kind, store.uri)
    report.version = version
    up_to_date = previous is not None and previous.version == version and previous.meta.format_version == FORMAT_VERSION
    if dry_run or up_to_date:
        if up_to_date and on_published is not None:  # (a dry run has none)
            on_published(version)  # published already: told again, in case the last record failed
        report.seconds = time.perf_counter() - started
        return report

    if store.kind == "milvus":  # before the embedding, which may take long
        from embeddings.vectors.milvus import check_reachable

        check_reachable(store)
    new_vectors, new_sentences = _embed(todo, embedder, progress)
    report.embedded_texts = sum(1 + len(p.sentences) for p in todo)
    matrix, sentence_vectors = _assemble(passages, new_vectors, new_sentences, previous, embedder.dimension)
    meta = _meta(embedder, splitter, version, passages, digests, vector_kind, store)
    report.changes.update(
        created=meta.created,
        previous=report.previous_version,
        summary=f"{report.added} passages added, {report.changed} changed, {report.removed} removed",
    )
    version_dir = write_version(
        index_dir, meta, passages, hashes, matrix, sentence_vectors, report.changes, vector_index, store
    )
    if gate is not None:
        ok, report.gate_report = gate(version_dir)
        if not ok and not force:
            report.kept_aside = _keep_aside(index_dir, version_dir, store)
            report.seconds = time.perf_counter() - started
            return report
    publish(index_dir, version, store, on_published)
    report.published = True
    report.seconds = time.perf_counter() - started
    return report


def _tally(
    report: IndexReport,
    passages: list[Passage],
    hashes: dict[int, str],
    digests: dict[str, str],
    previous: LoadedIndex | None,
) -> list[Passage]:
    """Count what changed since `previous` into `report`; return the passages to embed."""
    report.passages = len(passages)
    old_hashes = previous.content_hashes if previous else {}
    todo = [p for p in passages if old_hashes.get(p.id) != hashes[p.id]]
    report.added = sum(1 for p in todo if p.id not in old_hashes)
    report.changed = len(todo) - report.added
    report.unchanged = len(passages) - len(todo)
    report.removed = len(set(old_hashes) - set(hashes))
    report.changes = describe_changes(
        previous.passages.values() if previous else [], passages, previous.meta.documents if previous else {}, digests
    )
    return todo


def _meta(
    embedder: Embedder,
    splitter: SplitterSettings,
    version: str,
    passages: list[Passage],
    digests: dict[str, str],
    vector_kind: str,
    store: StoreSettings,
) -> IndexMeta:
    """What the new version records about how it was built."""
    definitions = acronyms.collect(p.text for p in passages)
    return IndexMeta(
        model=embedder.name,
        dimension=embedder.dimension,
        splitter=splitter.model_dump(),
        version=version,
        passages=len(passages),
        documents=digests,
        acronyms=definitions,
        acronym_counts={
            short: [uses, long_uses]
            for short, (_, uses, long_uses) in acronyms.AcronymUsage.count(
                definitions, (p.context_text() for p in passages)
            ).table.items()
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        vector_index=vector_kind,
        vector_store=store.kind,
        split_rules=SPLIT_RULES,
    )


def _passages(
    documents: list[Document],
    previous: LoadedIndex | None,
    splitter: SplitterSettings,
    model: str,
    fingerprint: str,
) -> tuple[list[Passage], dict[int, str], dict[str, str]]:
    """Passages of every document: reused as they were when the document did not change and was
    split by the same rules (`SPLIT_RULES`); otherwise split again (unchanged passages keep their hash)."""
    if previous is not None and previous.meta.split_rules != SPLIT_RULES:
        previous = None  # cut by older rules: every document is split again
    reusable: dict[str, list[Passage]] = defaultdict(list)
    if previous is not None:
        for passage in previous.passages.values():
            reusable[passage.doc].append(passage)
    passages: list[Passage] = []
    hashes: dict[int, str] = {}
    digests: dict[str, str] = {}
    for doc in documents:
        digests[doc.path] = _document_digest(doc)
        if previous is not None and previous.meta.documents.get(doc.path) == digests[doc.path]:
            kept = sorted(reusable[doc.path], key=lambda p: p.position)
            passages.extend(kept)
            hashes.update((p.id, previous.content_hashes[p.id]) for p in kept)
            continue
        for passage in split_document(doc, splitter):
            passages.append(passage)
            hashes[passage.id] = content_hash(passage, model, fingerprint)
    return passages, hashes, digests


def _document_digest(doc: Document) -> str:
    payload = json.dumps(
        [doc.format, doc.title, doc.source, doc.metadata, doc.body, doc.pages], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _previous_index(
    index_dir: Path, embedder: Embedder, splitter: SplitterSettings, report: IndexReport, token: str
) -> LoadedIndex | None:
    """The published index if it can be reused; otherwise note why everything is rebuilt."""
    try:
        previous = load_index(index_dir, upgrading=True, token=token)
        check_compatible(previous.meta, embedder.name, embedder.dimension, splitter.model_dump(), upgrading=True)
        if previous.meta.format_version in UPGRADABLE_FORMATS:
            _check_unverified(previous)
    except IndexError_ as exc:
        if current_version_name(index_dir) and not report.rebuilt_because:
            report.rebuilt_because = str(exc).rsplit("; ", 1)[0]  # no advice: this run rebuilds; the CLI prints it once
        return None
    return previous


def _check_unverified(index: LoadedIndex) -> None:
    """An older format has no checksums: check what can be, that every stored vector is of unit
    length (as the embedder writes them), before reusing them."""
    vectors = [index.passage_vectors(list(index.passages)), *index.sentence_vectors.values()]
    matrix = np.concatenate([v.reshape(-1, index.meta.dimension) for v in vectors])
    norms = np.linalg.norm(matrix, axis=1) if len(matrix) else np.ones(0)
    if not np.all(np.abs(norms - 1.0) < 1e-3):
        bad = int(np.sum(~(np.abs(norms - 1.0) < 1e-3)))
        raise IndexError_(f"{index.path}: {bad} stored vectors are damaged (not of unit length); {REBUILD_HINT}")


def _embed(
    passages: list[Passage], embedder: Embedder, progress: Progress | None
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Embed each passage (with its heading path) and each of its sentences, in one pass."""
    texts: list[str] = []
    for passage in passages:
        texts.append(passage.context_text())
        texts.extend(passage.sentence_texts())
    total = len(texts)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    matrix = embedder.embed(texts, progress=tick)
    passage_vectors: dict[int, np.ndarray] = {}
    sentence_vectors: dict[int, np.ndarray] = {}
    row = 0
    for passage in passages:
        n = len(passage.sentences)
        passage_vectors[passage.id] = matrix[row]
        sentence_vectors[passage.id] = matrix[row + 1 : row + 1 + n]
        row += 1 + n
    return passage_vectors, sentence_vectors


def _assemble(
    passages: list[Passage],
    new_vectors: dict[int, np.ndarray],
    new_sentences: dict[int, np.ndarray],
    previous: LoadedIndex | None,
    dimension: int,
) -> tuple[np.ndarray, Mapping[int, np.ndarray]]:
    """Vectors for every passage: freshly embedded ones, the rest read from the previous version
    (its sentence vectors as they are, read from its file: written out, never gathered in memory)."""
    matrix = np.zeros((len(passages), dimension), dtype=np.float32)
    kept: list[tuple[int, int]] = []  # (row, passage id) copied from the previous version
    for row, passage in enumerate(passages):
        if passage.id in new_vectors:
            matrix[row] = new_vectors[passage.id]
        elif previous is not None and passage.id in previous.sentence_vectors:
            kept.append((row, passage.id))
        else:
            raise IndexError_(f"internal error: no vector for passage {passage.key}")
    if kept and previous is not None:  # one batch: a Milvus store answers it in a few requests
        rows, ids = zip(*kept, strict=True)
        matrix[list(rows)] = previous.passage_vectors(list(ids))
    if previous is None:
        return matrix, new_sentences
    return matrix, ChainMap(new_sentences, previous.sentence_vectors)  # type: ignore[arg-type]  # only read


def _keep_aside(index_dir: Path, version_dir: Path, store: StoreSettings) -> Path:
    """Move a version the gate refused to `index/rejected/`, where it can be inspected."""
    target = index_dir / "rejected" / version_dir.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        discard_version(target, store)
    version_dir.rename(target)
    return target


def _version_id(
    model: str, fingerprint: str, hashes: dict[int, str], vector_kind: str = "flat", store_uri: str = ""
) -> str:
    """Digest of everything a version holds; a flat index keeps the ids it had before index kinds
    were configurable, any other kind is part of the digest (a change rebuilds, without re-embedding),
    and so are the Milvus URI (moving to another Milvus writes the vectors there) and the splitter's
    rules (new rules publish a version recording them, even when every passage came out the same)."""
    head = f"{FORMAT_VERSION}\n{model}\n{fingerprint}\n" + ("" if vector_kind == "flat" else f"{vector_kind}\n")
    head += f"split rules {SPLIT_RULES}\n"
    head += f"{store_uri}\n" if store_uri else ""
    digest = hashlib.sha256(head.encode())
    for pid in sorted(hashes):
        digest.update(f"{pid}:{hashes[pid]}\n".encode())
    return digest.hexdigest()[:12]
