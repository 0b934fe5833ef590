"""Embedding throughput: PolicyBot's indexing pipeline against the raw encoder of its backend.

Reproduce with:  .venv/bin/python bench/throughput.py [--docs 60] [--backend onnx] [--runtime auto]
Both embed the same texts (each passage with its heading path, and each sentence) from the
generated corpus of bench/reembed.py, with the same model and batch size, in one run; the
pipeline figure is a whole `build_index` (reading, splitting, embedding, writing). The raw
encoder is the backend's own, called directly on the texts: `SentenceTransformer.encode` for
torch, the ONNX session (`OnnxEncoder.encode`, texts sorted longest first as `encode` sorts them)
for onnx and onnx-int8, or OpenVINO's compiled model (`OpenVinoEncoder.encode`) with `--runtime
openvino` (`auto`, the default: what `policybot index` runs, openvino when installed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reembed import write_corpus  # noqa: E402

from embeddings.embedder import BACKENDS, RUNTIMES, SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.ingest.documents import scan_knowledge  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings, split_document  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60, help="generated documents (about 16 passages each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="onnx", choices=BACKENDS)
    parser.add_argument("--runtime", default="auto", choices=RUNTIMES, help="runs the onnx model (as build_runtime)")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder(backend=args.backend, runtime=args.runtime)
    model, onnx = embedder._model, embedder._onnx  # the very same encoder, for the raw baseline
    raw_name = "SentenceTransformer.encode" if onnx is None else f"{type(onnx).__name__}.encode"
    runtime = "torch" if onnx is None else f"{type(onnx).__name__} {getattr(onnx, 'precision', 'fp32')}"
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = Path(tmp) / "knowledge"
        knowledge.mkdir()
        write_corpus(knowledge, args.docs, seed=7)
        documents, _ = scan_knowledge(knowledge)
        texts = [
            text
            for doc in documents
            for p in split_document(doc, SplitterSettings())
            for text in (p.context_text(), *p.sentence_texts())
        ]
        passages = sum(1 for doc in documents for _ in split_document(doc, SplitterSettings()))
        longest_first = sorted(texts, key=len, reverse=True)
        embedder.embed(texts[:64])  # warm-up
        raw, pipeline = [], []
        for round_ in range(args.rounds):
            started = time.perf_counter()
            if onnx is None:
                model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            else:
                onnx.encode(longest_first, batch_size=32)
            raw.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_index(knowledge, Path(tmp) / f"index{round_}", embedder, SplitterSettings())
            pipeline.append(time.perf_counter() - started)
    raw_s, pipeline_s = statistics.median(raw), statistics.median(pipeline)
    print(
        f"{len(texts)} texts ({passages} passages) from {args.docs} documents, {args.backend} backend ({runtime}),"
        f" median of {args.rounds} rounds"
    )
    print(f"raw {raw_name}: {len(texts) / raw_s:7.1f} texts/s")
    print(
        f"PolicyBot build_index: {len(texts) / pipeline_s:7.1f} texts/s = {passages / pipeline_s:.1f} passages/s"
        " (read, split, embed, write)"
    )
    print(f"pipeline / raw: {raw_s / pipeline_s:.2f} (target at least 0.85)")
    print(
        f"reproduce: .venv/bin/python bench/throughput.py --docs {args.docs} --rounds {args.rounds}"
        f" --backend {args.backend} --runtime {args.runtime}"
    )


if __name__ == "__main__":
    main()
