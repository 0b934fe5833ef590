"""Session fixtures for the Slack tests: the real answerer over an index of the shipped knowledge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answerer import Answerer
from bot.config import Settings, load_settings
from bot.engine import build_answerer
from embeddings.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.indexing import build_index

REPO = Path(__file__).resolve().parent.parent

__all__ = ["slack_answerer", "slack_embedder", "slack_settings"]


@pytest.fixture(scope="session")
def slack_embedder(request: pytest.FixtureRequest) -> Embedder:
    """The session's `embedder` fixture when a conftest provides one, else the real model, loaded once."""
    try:
        embedder: Embedder = request.getfixturevalue("embedder")
    except pytest.FixtureLookupError:
        embedder = SentenceTransformerEmbedder()
    return embedder


@pytest.fixture(scope="session")
def slack_settings(tmp_path_factory: pytest.TempPathFactory, slack_embedder: Embedder) -> Settings:
    """The shipped config.yaml with the index built into a temporary folder."""
    settings = load_settings(REPO / "config.yaml")
    index_dir = tmp_path_factory.mktemp("slack-index")
    build_index(settings.knowledge_dir, index_dir, slack_embedder, settings.splitter.settings())
    return settings.model_copy(update={"index_dir": index_dir})


@pytest.fixture(scope="session")
def slack_answerer(request: pytest.FixtureRequest) -> Answerer:
    """The real answerer every front end uses: the conftest's `answerer` if there is one, else built here."""
    try:
        answerer: Answerer = request.getfixturevalue("answerer")
    except pytest.FixtureLookupError:
        answerer = build_answerer(request.getfixturevalue("slack_settings"),
                                  embedder=request.getfixturevalue("slack_embedder"))
    return answerer
