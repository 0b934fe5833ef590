"""Build or update the index from the knowledge folder, re-embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from embeddings.documents import scan_knowledge
from embeddings.embedder import Embedder
from embeddings.errors import DocumentError, IndexError_
from embeddings.index_files import (
    IndexMeta,
    LoadedIndex,
    check_compatible,
    load_index,
    publish_version,
)
from embeddings.passage import Passage, content_hash
from embeddings.splitter import SplitterSettings, split_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (texts embedded so far, total texts)


@dataclass
class IndexReport:
    """What an `index` run did, for the one-line summary."""

    documents: int = 0
    passages: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[DocumentError] = field(default_factory=list)
    version: str = ""
    rebuilt_because: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.passages} passages: {self.added} added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged; {len(self.problems)} problems; "
            f"index {self.version or '(none)'} in {self.seconds:.1f}s"
        )


def build_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    splitter: SplitterSettings,
    full: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Split every readable document, embed new or changed passages, publish a new version."""
    started = time.perf_counter()
    report = IndexReport()
    if not knowledge_dir.is_dir():
        raise IndexError_(f"knowledge folder {knowledge_dir} does not exist")
    documents, report.problems = scan_knowledge(knowledge_dir)
    for problem in report.problems:
        log.warning("skipped %s", problem)
    report.documents = len(documents)
    passages = [p for doc in documents for p in split_document(doc, splitter)]
    report.passages = len(passages)
    fingerprint = splitter.fingerprint()
    hashes = {p.id: content_hash(p, embedder.name, fingerprint) for p in passages}

    previous = None if full else _previous_index(index_dir, embedder, splitter, report)
    old_hashes = previous.content_hashes if previous else {}
    todo = [p for p in passages if old_hashes.get(p.id) != hashes[p.id]]
    report.added = sum(1 for p in todo if p.id not in old_hashes)
    report.changed = len(todo) - report.added
    report.unchanged = len(passages) - len(todo)
    report.removed = len(set(old_hashes) - set(hashes))

    new_vectors, new_sentences = _embed(todo, embedder, progress)
    vectors: list[np.ndarray] = []
    sentence_vectors: dict[int, np.ndarray] = {}
    for passage in passages:
        if passage.id in new_vectors:
            vectors.append(new_vectors[passage.id])
            sentence_vectors[passage.id] = new_sentences[passage.id]
        else:
            assert previous is not None  # unchanged passages exist only when there was an index
            vectors.append(previous.passage_vector(passage.id))
            sentence_vectors[passage.id] = previous.sentence_vectors[passage.id]

    meta = IndexMeta(
        model=embedder.name,
        dimension=embedder.dimension,
        splitter=asdict(splitter),
        version=_version_id(embedder.name, fingerprint, hashes),
        passages=len(passages),
        documents=sorted(d.path for d in documents),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if previous is not None and previous.version == meta.version:
        report.version = meta.version
    else:
        matrix = np.vstack(vectors) if vectors else np.zeros((0, embedder.dimension), dtype=np.float32)
        publish_version(index_dir, meta, passages, hashes, matrix, sentence_vectors)
        report.version = meta.version
    report.seconds = time.perf_counter() - started
    return report


def _previous_index(
    index_dir: Path, embedder: Embedder, splitter: SplitterSettings, report: IndexReport
) -> LoadedIndex | None:
    """The published index if it can be reused; otherwise note why everything is rebuilt."""
    try:
        previous = load_index(index_dir)
        check_compatible(previous.meta, embedder.name, embedder.dimension, asdict(splitter))
    except IndexError_ as exc:
        if (index_dir / "CURRENT").exists():
            report.rebuilt_because = str(exc).split(";")[0]
            log.warning("full rebuild: %s", report.rebuilt_because)
        return None
    return previous


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


def _version_id(model: str, fingerprint: str, hashes: dict[int, str]) -> str:
    digest = hashlib.sha256(f"{model}\n{fingerprint}\n".encode())
    for pid in sorted(hashes):
        digest.update(f"{pid}:{hashes[pid]}\n".encode())
    return digest.hexdigest()[:12]
