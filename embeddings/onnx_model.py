"""A sentence-transformers model run by ONNX Runtime: exported once into a cache, then no torch.

`export_onnx` (needs torch and transformers, once per model and variant) writes the model's
transformer as ONNX, int8-quantized for variant "int8", with its tokenizer and pooling settings,
into `<cache>/<model>-<key>-<variant>/` by an atomic rename. `OnnxEncoder` loads that folder
with onnxruntime and tokenizers only, so a process that answers with it never imports torch.
Vectors: mean (or CLS) pooling of the last hidden state, L2-normalized, as sentence-transformers
computes them (fp32 agrees with torch to ~1e-7).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.atomic import fsync_path
from embeddings.errors import ModelError

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
EXPORT_FORMAT = 3  # bump when the exported folder's layout or contents change (3: policybot.json lists file sizes)
MANIFEST = "policybot.json"  # written last: its file list says the export is complete
_ST_TRANSFORMER = "sentence_transformers.models.Transformer"
_ST_POOLING = "sentence_transformers.models.Pooling"
_ST_NORMALIZE = "sentence_transformers.models.Normalize"


def cache_dir_for(model_path: Path, cache_root: Path, variant: str) -> Path:
    """Where the export of `model_path` lives: keyed by the model files' names, sizes and times."""
    stats = sorted(
        (str(p.relative_to(model_path)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in model_path.rglob("*")
        if p.is_file()
    )
    key = hashlib.sha256(json.dumps([EXPORT_FORMAT, str(model_path.resolve()), stats]).encode()).hexdigest()[:16]
    return cache_root.expanduser() / f"{model_path.name}-{key}-{variant}"


def _model_layout(model_path: Path) -> dict[str, Any]:
    """Pooling and tokenizer settings from the sentence-transformers files; refuse what ONNX here cannot run."""
    modules_file = model_path / "modules.json"
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        types = [m["type"] for m in modules]
        pooling_dir = next(model_path / m["path"] for m in modules if m["type"] == _ST_POOLING)
        pooling = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
        st_config_file = model_path / "sentence_bert_config.json"
        st_config = json.loads(st_config_file.read_text(encoding="utf-8")) if st_config_file.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ModelError(
            f"{model_path}: not a sentence-transformers model folder the onnx backend reads ({exc})"
        ) from exc
    if types[:2] != [_ST_TRANSFORMER, _ST_POOLING] or any(t != _ST_NORMALIZE for t in types[2:]):
        raise ModelError(
            f"{modules_file}: the onnx backend runs Transformer + Pooling (+ Normalize) models, this one has "
            f"{[t.rsplit('.', 1)[-1] for t in types]}; set `backend: torch`"
        )
    if pooling.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif pooling.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        raise ModelError(f"{pooling_dir}/config.json: the onnx backend pools by mean or CLS only; set `backend: torch`")
    return {
        "pooling": mode,
        "dimension": int(pooling["word_embedding_dimension"]),
        "max_seq_length": int(st_config.get("max_seq_length") or 512),
        "do_lower_case": bool(st_config.get("do_lower_case", False)),
    }


def export_onnx(model_path: Path, cache_root: Path, variant: str = "fp32") -> Path:
    """The cached ONNX export of a local sentence-transformers model, made now if missing (offline).

    The export is written to a temporary folder beside its target, each file flushed to disk, then
    renamed into place; `policybot.json`, written last, lists every file's size. A folder whose
    files do not match that list (a crash or a full disk mid-copy, a power cut before the data
    reached the disk) is moved aside and exported again, never loaded.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    target = cache_dir_for(model_path, cache_root, variant)
    problem = export_problem(target)
    if problem is None:
        return target
    layout = _model_layout(model_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    if target.exists():
        log.warning("the ONNX export in %s is unusable (%s); exporting it again", target, problem)
        _discard(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    started = time.monotonic()
    try:
        if variant == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            fp32 = export_onnx(model_path, cache_root, "fp32")
            log.warning("first start: quantizing the embedding model to int8 into %s (once)", target)
            # Per-channel int8 weights of the MatMuls only (embeddings stay fp32): cosine to fp32
            # median 0.992, min 0.98 on the shipped passages; per-tensor gave min 0.92.
            quantize_dynamic(
                fp32 / "model.onnx",
                tmp / "model.onnx",
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
            shutil.copy2(fp32 / "tokenizer.json", tmp / "tokenizer.json")
        else:
            log.warning(
                "first start: exporting the embedding model to ONNX into %s (once, about 15 s; later starts reuse it)",
                target,
            )
            _export_transformer(model_path, tmp)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        for name in files:
            fsync_path(tmp / name)
        (tmp / MANIFEST).write_text(
            json.dumps(
                {"source": str(model_path), "variant": variant, "format": EXPORT_FORMAT, **layout, "files": files},
                indent=1,
            ),
            encoding="utf-8",
        )
        fsync_path(tmp / MANIFEST)
        fsync_path(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process published it first: theirs serves
            if export_problem(target) is not None:
                raise
        fsync_path(target.parent)
        log.warning("ONNX export ready in %.0f s", time.monotonic() - started)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def export_problem(folder: Path) -> str | None:
    """Why `folder` is not a complete export (None when it is): checks the manifest and each file's size.

    Sizes, not checksums: a hash of the 90 MB model on every start would cost ~0.2 s of a 1 s cold start.
    """
    if not folder.exists():
        return "missing"
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("format") != EXPORT_FORMAT or not isinstance(files, dict) or "model.onnx" not in files:
            return f"{MANIFEST} is from another export format"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"no readable {MANIFEST}: {exc.__class__.__name__}"
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} holds {path.stat().st_size} bytes, {size} expected"
    return None


def _discard(folder: Path) -> None:
    """Move a broken export out of the way (a rename, so no reader sees it half-deleted), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.broken.", dir=folder.parent))
    with contextlib.suppress(FileNotFoundError):  # another process discarded it first
        os.replace(folder, aside / folder.name)
    shutil.rmtree(aside, ignore_errors=True)


def _remove_stale_temporaries(target: Path, older_than_s: float = 3600.0) -> None:
    """Temporary folders a killed export left (SIGKILL skips its cleanup); recent ones may be another exporter's."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*"):
        with contextlib.suppress(FileNotFoundError):
            if now - leftover.stat().st_mtime > older_than_s:
                shutil.rmtree(leftover, ignore_errors=True)


def _export_transformer(model_path: Path, out: Path) -> None:
    """Trace the Hugging Face transformer to `out/model.onnx` (last hidden state) and copy its tokenizer."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its "Loading weights" bar would follow our one-line notice

    model = AutoModel.from_pretrained(model_path, attn_implementation="eager").eval()  # eager traces cleanly
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if (model_path / "tokenizer.json").is_file():
        shutil.copy2(model_path / "tokenizer.json", out / "tokenizer.json")
    else:
        tokenizer.save_pretrained(out)
    if not (out / "tokenizer.json").is_file():
        raise ModelError(
            f"{model_path}: the onnx backend needs a fast tokenizer (tokenizer.json); set `backend: torch`"
        )
    sample = tokenizer(["a sample sentence", "another"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes fixed by the sample; the axes stay dynamic
        torch.onnx.export(
            LastHidden(),
            tuple(sample[n] for n in names),
            str(out / "model.onnx"),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class OnnxEncoder:
    """Runs an exported folder: tokenize, ONNX Runtime forward, pool, normalize. No torch."""

    def __init__(self, folder: Path, threads: int = 0) -> None:
        import onnxruntime

        self._read_tokenizer(folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        # ONNX Runtime's threads busy-wait after each run by default; on 2 cores that doubled the
        # time of the next torch or FAISS work in the process (bench/txtai_compare.py), for ~0.6 ms
        # saved per question. A bot is idle between questions: let the threads sleep.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]

    def _read_tokenizer(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.layout = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        self.dimension = int(self.layout["dimension"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(self.layout["max_seq_length"]))
        self._tokenizer.no_padding()

    def _forward(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The transformer's last hidden state for a padded batch."""
        return self._session.run(None, feeds)[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Normalized float32 vectors, one row per text, in input order."""
        if self.layout["do_lower_case"]:
            texts = [t.lower() for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            out[start : start + batch_size] = self._encode_batch(texts[start : start + batch_size])
        return out

    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(texts), width), dtype=np.int64) for name in self._inputs}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feeds["input_ids"][row, :n] = e.ids
            feeds["attention_mask"][row, :n] = 1
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, :n] = e.type_ids
        hidden = self._forward(feeds)
        if self.layout["pooling"] == "cls":
            pooled = hidden[:, 0]
        else:
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
