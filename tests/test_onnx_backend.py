"""The ONNX backends: the default, torch's vectors without torch, exported once (a broken export
is made again, never loaded), int8 kept to its own index."""

from __future__ import annotations

import shutil
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
from embeddings.onnx_model import export_problem

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


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(backend="torch")


def test_onnx_vectors_equal_torch_vectors(
    torch_embedder: SentenceTransformerEmbedder, onnx_embedder: SentenceTransformerEmbedder
) -> None:
    np.testing.assert_allclose(onnx_embedder.embed(TEXTS), torch_embedder.embed(TEXTS), rtol=0, atol=1e-6)
    assert onnx_embedder.name == torch_embedder.name and onnx_embedder.dimension == torch_embedder.dimension == 384


def test_onnx_is_the_default_backend(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("knowledge_dir: knowledge\n")
    assert load_settings(tmp_path / "config.yaml").backend == "onnx"
    assert load_settings(ROOT / "config.yaml").backend == "onnx"


def test_int8_vectors_stay_close_to_torch(torch_embedder: SentenceTransformerEmbedder, onnx_cache: Path) -> None:
    int8 = SentenceTransformerEmbedder(backend="onnx-int8", onnx_cache=onnx_cache)
    cosine = np.sum(torch_embedder.embed(TEXTS) * int8.embed(TEXTS), axis=1)
    assert cosine.min() >= 0.97 and float(np.median(cosine)) >= 0.99, cosine


def test_export_is_made_once_and_reused(onnx_embedder: SentenceTransformerEmbedder, onnx_cache: Path) -> None:
    (folder,) = [p for p in onnx_cache.iterdir() if p.name.endswith("-fp32")]
    made = (folder / "model.onnx").stat().st_mtime_ns
    again = SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache)
    assert (folder / "model.onnx").stat().st_mtime_ns == made
    assert not [p for p in onnx_cache.iterdir() if p.name.startswith(".")]  # no temporary folders left
    np.testing.assert_allclose(again.embed(TEXTS[:1]), onnx_embedder.embed(TEXTS[:1]), atol=1e-6)


def ask_in_a_fresh_process(config: Path) -> subprocess.CompletedProcess[str]:
    """`policybot --config CONFIG ask` as a user runs it; prints whether torch was imported."""
    code = (
        "import sys; from bot.cli import main; status = main(['--config', sys.argv[1], 'ask', sys.argv[2]]);"
        "print('torch imported:', 'torch' in sys.modules); sys.exit(status)"
    )
    question = "What pillars do the AMP recommendations rest on?"
    return subprocess.run(
        [sys.executable, "-c", code, str(config), question], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_the_default_backend_answers_without_importing_torch(
    shipped_settings: Settings, onnx_cache: Path, tmp_path: Path
) -> None:
    SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache)  # the export exists, as after a first run
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {shipped_settings.index_dir}\nonnx_cache: {onnx_cache}\n")  # no backend: default
    result = ask_in_a_fresh_process(config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "three pillars" in result.stdout and "[1]" in result.stdout
    assert "torch imported: False" in result.stdout
    assert "exporting" not in result.stderr  # the export is reused, not made again


def test_a_half_written_export_is_made_again_not_loaded(
    shipped_settings: Settings, onnx_embedder: SentenceTransformerEmbedder, onnx_cache: Path, tmp_path: Path
) -> None:
    (done,) = [p for p in onnx_cache.iterdir() if p.name.endswith("-fp32")]
    cache = tmp_path / "onnx"
    shutil.copytree(done, cache / done.name)  # as a crash before the model's bytes reached the disk leaves it
    model = cache / done.name / "model.onnx"
    with model.open("r+b") as handle:
        handle.truncate(model.stat().st_size // 2)
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {shipped_settings.index_dir}\nonnx_cache: {cache}\n")
    first = ask_in_a_fresh_process(config)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "three pillars" in first.stdout
    assert "model.onnx holds" in first.stderr and "exporting the embedding model to ONNX" in first.stderr
    assert model.stat().st_size == (done / "model.onnx").stat().st_size
    assert [p.name for p in cache.iterdir()] == [done.name]  # no temporary or broken folder left beside it
    again = ask_in_a_fresh_process(config)
    assert again.returncode == 0 and "three pillars" in again.stdout
    assert "exporting" not in again.stderr


def test_an_export_without_its_manifest_or_a_file_is_incomplete(onnx_cache: Path, tmp_path: Path) -> None:
    (done,) = [p for p in onnx_cache.iterdir() if p.name.endswith("-fp32")]
    assert export_problem(done) is None
    no_tokenizer = shutil.copytree(done, tmp_path / "no-tokenizer")
    (no_tokenizer / "tokenizer.json").unlink()
    assert export_problem(no_tokenizer) == "tokenizer.json is missing"
    no_manifest = shutil.copytree(done, tmp_path / "no-manifest")  # as an export made before manifests were written
    (no_manifest / "policybot.json").unlink()
    assert "no readable policybot.json" in str(export_problem(no_manifest))


def test_int8_backend_refuses_an_index_built_with_torch(shipped_settings: Settings, onnx_cache: Path) -> None:
    settings = shipped_settings.model_copy(update={"backend": "onnx-int8", "onnx_cache": onnx_cache})
    with pytest.raises(IndexError_, match=r"onnx-int8.*policybot index --full"):
        build_answerer(settings)


def test_unknown_backend_is_a_clear_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("backend: tensorrt\n")
    with pytest.raises(ConfigError, match=r"backend must be .*'torch'.*'onnx-int8'.*got 'tensorrt'"):
        load_settings(config)


def test_openvino_builds_with_vectors_that_rank_as_onnx_runtime_does(
    onnx_embedder: SentenceTransformerEmbedder, onnx_cache: Path
) -> None:
    from embeddings.openvino_model import OpenVinoEncoder, native_bf16

    openvino = SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache, runtime="openvino")
    assert isinstance(openvino._onnx, OpenVinoEncoder)
    assert openvino._onnx.precision == ("bf16" if native_bf16() else "f32")
    assert openvino.name == onnx_embedder.name  # one index: the vectors are the same to four decimals
    ours, reference = openvino.embed(TEXTS), onnx_embedder.embed(TEXTS)
    cosine = np.sum(ours * reference, axis=1)
    assert cosine.min() >= 0.9995, cosine
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(np.argsort(ours[1:] @ ours[0]), np.argsort(reference[1:] @ reference[0]))


def test_policybot_index_embeds_with_openvino_and_questions_with_onnx_runtime(
    shipped_settings: Settings, onnx_cache: Path
) -> None:
    from bot.wiring import load_embedder
    from embeddings.onnx_model import OnnxEncoder
    from embeddings.openvino_model import OpenVinoEncoder

    settings = shipped_settings.model_copy(update={"backend": "onnx", "onnx_cache": onnx_cache})
    assert settings.build_runtime == "auto"
    assert isinstance(load_embedder(settings, building=True)._onnx, OpenVinoEncoder)
    assert type(load_embedder(settings)._onnx) is OnnxEncoder
    chosen = settings.model_copy(update={"build_runtime": "onnxruntime"})
    assert type(load_embedder(chosen, building=True)._onnx) is OnnxEncoder


def test_without_openvino_auto_builds_with_onnx_runtime_and_openvino_says_what_is_missing(
    onnx_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embeddings.errors import ModelError
    from embeddings.onnx_model import OnnxEncoder

    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` raises ImportError
    monkeypatch.delitem(sys.modules, "embeddings.openvino_model", raising=False)
    auto = SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache, runtime="auto")
    assert type(auto._onnx) is OnnxEncoder and auto.embed(["hi"]).shape == (1, 384)
    with pytest.raises(ModelError, match="runtime openvino needs the openvino package"):
        SentenceTransformerEmbedder(backend="onnx", onnx_cache=onnx_cache, runtime="openvino")


def test_an_unknown_build_runtime_is_a_clear_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("build_runtime: tensorrt\n")
    with pytest.raises(ConfigError, match="build_runtime"):
        load_settings(tmp_path / "config.yaml")
