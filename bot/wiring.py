"""Build the answerer from settings: load the index, check it fits the model, load the model."""

from __future__ import annotations

from bot.answering.answerer import Answerer, make_retriever
from bot.config import Settings
from bot.reloader import IndexReloader, OnSwitch, VersionSource
from embeddings.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index.loaded import check_compatible, load_index


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedding model, run by the configured backend (torch, onnx or onnx-int8)."""
    return SentenceTransformerEmbedder(
        settings.model, batch_size=settings.batch_size, backend=settings.backend, onnx_cache=settings.onnx_cache
    )


def build_answerer(settings: Settings, embedder: Embedder | None = None) -> Answerer:
    """The one answerer every front end uses. The index is checked before the slow model load."""
    index = load_index(
        settings.index_dir, search=settings.vector_index.settings(), store=settings.vector_store.settings()
    )
    splitter = settings.splitter.settings().__dict__
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
    the first question, even when watching is off: replicas must agree on what they serve.
    """
    reloader = IndexReloader(
        answerer.retriever, settings, on_switch, settings.indexing.reload_seconds, version_source=version_source
    )
    if version_source is not None:
        reloader.check(notify=False)  # catching up at start is no news for the changes channel
    if settings.indexing.reload_seconds <= 0:
        return None
    return reloader.start()
