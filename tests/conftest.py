"""Shared fixtures: the real model (loaded once per session), a fake embedder, built indexes."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.answering.answerer import Answerer
from bot.config import Settings, load_settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.postgres_fixtures import *  # noqa: F403  (a real PostgreSQL server, state database URLs)
from tests.slack.fixtures import *  # noqa: F403  (fake Slack fixtures for every test module)

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
EVAL_SET = ROOT / "tests" / "data" / "eval.yaml"


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder: fast, for tests where the model is not the point.

    Counts the texts it embeds, so tests can check what was (not) re-embedded.
    """

    def __init__(self, dimension: int = 64, name: str = "fake-hash") -> None:
        self._dimension = dimension
        self._name = name
        self.embedded: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, bucket % self._dimension] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        if progress is not None:
            progress(len(texts))
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2 with the default backend (onnx, exported once into the user's cache
    as the bot does), loaded once for the whole test session."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export folder of the session's own (the export takes ~15 s), for tests that look inside it."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def shipped_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """The repository's config.yaml, with the shipped knowledge indexed into a temporary folder."""
    settings = load_settings(ROOT / "config.yaml")
    index_dir = tmp_path_factory.mktemp("shipped-index")
    build_index(KNOWLEDGE, index_dir, embedder, settings.splitter)
    return settings.model_copy(update={"index_dir": index_dir})


@pytest.fixture(scope="session")
def answerer(shipped_settings: Settings, embedder: SentenceTransformerEmbedder) -> Answerer:
    """The real answerer over the shipped knowledge, real model and real FAISS."""
    return build_answerer(shipped_settings, embedder=embedder)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def write_config(path: Path, knowledge: Path, index: Path, extra: str = "") -> Path:
    """A config.yaml pointing at the given folders."""
    path.write_text(f"knowledge_dir: {knowledge}\nindex_dir: {index}\nhistory_file: {path.parent / 'hist'}\n{extra}")
    return path


US_DOC = Path("united-states") / "key-policies.md"


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) with `new` in a knowledge file, as a curator would."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def settings_for(base: Settings, knowledge: Path, index: Path) -> Settings:
    """`base` pointed at another knowledge folder and index."""
    return base.model_copy(update={"knowledge_dir": knowledge, "index_dir": index})
