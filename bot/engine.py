"""Build the answerer from settings: load the index, check it fits the model, load the model."""

from __future__ import annotations

from bot.answerer import Answerer
from bot.config import Settings
from bot.reloader import IndexReloader, OnSwitch
from embeddings.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index_files import LoadedIndex, check_compatible, load_index
from embeddings.retrieval import Retriever


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.model, batch_size=settings.batch_size)


def build_answerer(settings: Settings, embedder: Embedder | None = None) -> Answerer:
    """The one answerer every front end uses. The index is checked before the slow model load."""
    index = load_index(settings.index_dir, search=settings.vector_index.settings())
    splitter = settings.splitter.settings().__dict__
    check_compatible(index.meta, settings.model, None, splitter)
    embedder = embedder or load_embedder(settings)
    check_compatible(index.meta, settings.model, embedder.dimension, splitter)
    return Answerer(make_retriever(index, embedder, settings), settings.answer, settings.retrieval.top_k)


def make_retriever(index: LoadedIndex, embedder: Embedder, settings: Settings) -> Retriever:
    """A retriever configured by the `retrieval:` settings."""
    r = settings.retrieval
    return Retriever(index, embedder, r.lexical_weight, r.mode, r.fusion, r.rrf_k)


def start_reloader(answerer: Answerer, settings: Settings, on_switch: OnSwitch | None = None) -> IndexReloader | None:
    """Watch for newly published index versions (every `indexing.reload_seconds`; 0 = off)."""
    if settings.indexing.reload_seconds <= 0:
        return None
    reloader = IndexReloader(answerer.retriever, settings, on_switch, settings.indexing.reload_seconds)
    return reloader.start()
