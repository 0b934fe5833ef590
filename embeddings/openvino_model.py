"""The exported ONNX model run by OpenVINO, for bulk embedding (index builds).

On a CPU that computes bfloat16 natively (Intel AMX or AVX-512 BF16, as OpenVINO reports it) the
model runs in bf16: 2.2x the texts per second of ONNX Runtime in fp32 here, with vectors at
cosine >= 0.9999 to fp32 (`bench/throughput.py --runtime openvino` / `--runtime onnxruntime`).
Elsewhere it runs in f32.
Tokenizing and pooling are OnnxEncoder's own, so only the transformer's forward pass differs.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import numpy as np
import openvino

from embeddings.onnx_model import OnnxEncoder

Precision = Literal["auto", "bf16", "f32"]


def native_bf16(core: openvino.Core | None = None) -> bool:
    """Whether OpenVINO's CPU plugin computes bfloat16 natively on this machine."""
    return "BF16" in (core or openvino.Core()).get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVinoEncoder(OnnxEncoder):
    """An exported folder (see `export_onnx`) compiled by OpenVINO for the CPU."""

    def __init__(self, folder: Path, precision: Precision = "auto") -> None:
        self._read_tokenizer(folder)
        core = openvino.Core()
        if precision == "auto":
            precision = "bf16" if native_bf16(core) else "f32"
        self.precision = precision
        model = core.read_model(str(folder / "model.onnx"))
        self._inputs = [port.get_any_name() for port in model.inputs]
        self._compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request: one batch at a time

    def _forward(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        with self._lock:
            result = self._request.infer(feeds)
            return np.array(result[self._compiled.output(0)], dtype=np.float32)
