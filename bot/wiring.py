"""Build from settings: the answerer (load the index, check it fits the model, load the model) and the index."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.answerer import Answerer, make_retriever
from bot.config import Settings
from bot.reloader import IndexReloader, OnSwitch, VersionSource
from bot.state.published import tell_replicas
from embeddings.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index.build import Gate, IndexReport, Progress, build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import check_compatible


def load_embedder(settings: Settings, building: bool = False) -> SentenceTransformerEmbedder:
    """The embedding model, run by the configured backend (torch, onnx or onnx-int8); `building`:
    for an index build, whose texts (and its gate's questions) `build_runtime` embeds."""
    return SentenceTransformerEmbedder(
        settings.model,
        batch_size=settings.batch_size,
        backend=settings.backend,
        onnx_cache=settings.onnx_cache,
        runtime=settings.build_runtime if building else "onnxruntime",
    )


def build_answerer(settings: Settings, embedder: Embedder | None = None) -> Answerer:
    """The one answerer every front end uses. The index is checked before the slow model load."""
    index = load_index(settings.index_dir, search=settings.vector_index, store=settings.vector_store)
    splitter = settings.splitter.model_dump()
    check_compatible(index.meta, settings.embedding_name, None, splitter)
    embedder = embedder or load_embedder(settings)
    check_compatible(index.meta, settings.embedding_name, embedder.dimension, splitter)
    return Answerer(make_retriever(index, embedder, settings), settings.answer, settings.retrieval.top_k)


def start_reloader(
    answerer: Answerer,
    settings: Settings,
    on_switch: OnSwitch | None = None,
    version_source: VersionSource | None = None,
) -> IndexReloader | None:
    """Watch for newly published index versions (every `indexing.reload_seconds`; 0 = off).

    With `version_source` (replicas sharing a database) its version is taken up at once, before
    the first question, even when watching is off: replicas must agree on what they serve. When
    that fails (the database or the version's folder not reachable yet), it is retried until it
    succeeds, also with watching off.
    """
    reloader = IndexReloader(answerer.retriever, settings, on_switch, version_source=version_source)
    if version_source is not None:
        reloader.check(notify=False)  # catching up at start is no news for the changes channel
    if settings.indexing.reload_seconds > 0:
        return reloader.start()
    if version_source is not None and not reloader.caught_up():
        return reloader.start_catching_up()
    return None


@dataclass
class IndexRun:
    """What `index_knowledge` did: the build's report, then what replicas were told of it."""

    report: IndexReport
    told: str | None = None  # "replicas sharing ... now serve index ..."
    failure: Exception | None = None  # the record failed; raised by `replicas()`, after the report is shown

    def replicas(self) -> str | None:
        """The line saying which version replicas now serve (None: no shared database or no
        publication); raises the error of a record that failed."""
        if self.failure is not None:
            raise self.failure
        return self.told


def index_knowledge(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    dry_run: bool = False,
    gate: Gate | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> IndexRun:
    """Index the knowledge folder as the settings say, recording each publication for replicas
    sharing a state database (what `policybot index`, `index --watch` and `policybot add` run).
    A failed record does not hide the report: the result's `replicas()` raises it."""
    run = IndexRun(IndexReport())

    def on_published(version: str) -> None:
        try:
            run.told = tell_replicas(settings, version)
        except Exception as exc:  # kept for `replicas()`: the report comes first, the failure last
            run.failure = exc

    run.report = build_index(
        settings.knowledge_dir,
        settings.index_dir,
        embedder,
        settings.splitter,
        full=full,
        progress=progress,
        dry_run=dry_run,
        gate=gate,
        force=force,
        limits=settings.ingest,
        vector_index=settings.vector_index,
        store=settings.vector_store,
        on_published=on_published,
    )
    return run
