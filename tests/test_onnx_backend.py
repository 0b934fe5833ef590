"""The ONNX backends: torch's vectors without torch, exported once, int8 kept to its own index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.errors import IndexError_

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install '.[onnx]')")

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "What pillars do the AMP recommendations rest on?",
    "Increase total U.S. public and private investments in advanced manufacturing research and development (R&D).",
    "The 2012 National Strategic Plan for Advanced Manufacturing recommends meeting five objectives: " * 12,
    "hi",
]


@pytest.fixture(scope="module")
def onnx_embedder(onnx_cache: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache)


def test_onnx_vectors_match_torch(
    embedder: SentenceTransformerEmbedder, onnx_embedder: SentenceTransformerEmbedder
) -> None:
    cosine = np.sum(embedder.embed(TEXTS) * onnx_embedder.embed(TEXTS), axis=1)
    assert cosine.min() >= 0.9999, cosine
    assert onnx_embedder.name == embedder.name and onnx_embedder.dimension == embedder.dimension == 384


def test_int8_vectors_stay_close_to_torch(embedder: SentenceTransformerEmbedder, onnx_cache: Path) -> None:
    int8 = SentenceTransformerEmbedder(backend="onnx-int8", onnx_cache=onnx_cache)
    cosine = np.sum(embedder.embed(TEXTS) * int8.embed(TEXTS), axis=1)
    assert cosine.min() >= 0.97 and float(np.median(cosine)) >= 0.99, cosine


def test_export_is_made_once_and_reused(onnx_embedder: SentenceTransformerEmbedder, onnx_cache: Path) -> None:
    (folder,) = [p for p in onnx_cache.iterdir() if p.name.endswith("-fp32")]
    made = (folder / "model.onnx").stat().st_mtime_ns
    again = SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache)
    assert (folder / "model.onnx").stat().st_mtime_ns == made
    assert not [p for p in onnx_cache.iterdir() if p.name.startswith(".")]  # no temporary folders left
    np.testing.assert_allclose(again.embed(TEXTS[:1]), onnx_embedder.embed(TEXTS[:1]), atol=1e-6)


def test_onnx_backend_answers_without_importing_torch(
    shipped_settings: Settings, onnx_cache: Path, tmp_path: Path
) -> None:
    SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache)  # the export exists, as after a first run
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {shipped_settings.index_dir}\nbackend: onnx\nonnx_cache: {onnx_cache}\n")
    code = (
        "import sys; from bot.cli import main; status = main(['--config', sys.argv[1], 'ask', sys.argv[2]]);"
        "print('torch imported:', 'torch' in sys.modules); sys.exit(status)"
    )
    question = "What pillars do the AMP recommendations rest on?"
    result = subprocess.run(
        [sys.executable, "-c", code, str(config), question], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "three pillars" in result.stdout and "[1]" in result.stdout
    assert "torch imported: False" in result.stdout


def test_int8_backend_refuses_an_index_built_with_torch(shipped_settings: Settings, onnx_cache: Path) -> None:
    settings = shipped_settings.model_copy(update={"backend": "onnx-int8", "onnx_cache": onnx_cache})
    with pytest.raises(IndexError_, match=r"onnx-int8.*policybot index --full"):
        build_answerer(settings)


def test_unknown_backend_is_a_clear_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("backend: tensorrt\n")
    with pytest.raises(ConfigError, match=r"backend must be .*'torch'.*'onnx-int8'.*got 'tensorrt'"):
        load_settings(config)
