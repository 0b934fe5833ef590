"""Embedding throughput: PolicyBot's indexing pipeline against raw `SentenceTransformer.encode`.

Reproduce with:  .venv/bin/python bench/throughput.py [--docs 60]
Both embed the same texts (each passage with its heading path, and each sentence) from the
generated corpus of bench/reembed.py, with the same model and batch size, in one run; the
pipeline figure is a whole `build_index` (reading, splitting, embedding, writing).
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

from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.ingest.documents import scan_knowledge  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings, split_document  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60, help="generated documents (about 16 passages each)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    model = embedder._model  # the very same SentenceTransformer, for the raw baseline
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
        embedder.embed(texts[:64])  # warm-up
        raw, pipeline = [], []
        for round_ in range(args.rounds):
            started = time.perf_counter()
            model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            raw.append(len(texts) / (time.perf_counter() - started))
            started = time.perf_counter()
            build_index(knowledge, Path(tmp) / f"index{round_}", embedder, SplitterSettings())
            pipeline.append(len(texts) / (time.perf_counter() - started))
    raw_rate, pipeline_rate = statistics.median(raw), statistics.median(pipeline)
    print(f"{len(texts)} texts from {args.docs} documents, median of {args.rounds} rounds")
    print(f"raw SentenceTransformer.encode: {raw_rate:7.1f} texts/s")
    print(f"PolicyBot build_index:          {pipeline_rate:7.1f} texts/s (read, split, embed, write)")
    print(f"pipeline / raw: {pipeline_rate / raw_rate:.2f} (target at least 0.9)")
    print(f"reproduce: .venv/bin/python bench/throughput.py --docs {args.docs} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
