"""Embedding backends compared: torch vs onnx vs onnx-int8 speed, agreement with torch, and hit@1.

Reproduce with:  .venv/bin/python bench/onnx_backends.py [--rounds 5]
Texts: the evaluation-set questions plus every passage (with its heading path) and sentence of
the shipped knowledge, as indexing embeds them; every backend embeds the same texts in each
round (interleaved), and figures are medians over the rounds. "1 question" is the time to embed
one question alone (what an answer waits for). hit@1 and abstention come from bot/answering/evaluation.py
over an index built with each backend; "int8 queries / torch index" asks int8-embedded questions
of the torch-built index (which the bot refuses, see README "backend").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.answerer import Answerer, make_retriever  # noqa: E402
from bot.answering.evaluation import EvalReport, evaluate, load_eval_set  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import BACKENDS, SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.index.loaded import load_index  # noqa: E402
from embeddings.ingest.documents import scan_knowledge  # noqa: E402
from embeddings.ingest.splitter import split_document  # noqa: E402

EVAL_SET = ROOT / "tests" / "data" / "eval.yaml"


def bench_texts(settings: Settings, questions: list[str]) -> list[str]:
    """The questions, then each passage with its headings and each of its sentences."""
    documents, _ = scan_knowledge(settings.knowledge_dir)
    passages = [p for doc in documents for p in split_document(doc, settings.splitter)]
    return questions + [t for p in passages for t in (p.context_text(), *p.sentence_texts())]


def figures(report: EvalReport) -> str:
    precision, recall, _, _ = report.abstention()
    return f"{report.hit_at_1():.3f} | {precision:.3f} / {recall:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (median reported)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N texts and questions (smoke test)")
    parser.add_argument("--onnx-cache", type=Path, default=None, help="ONNX export cache (default: config.yaml's)")
    args = parser.parse_args()

    settings = load_settings(ROOT / "config.yaml")
    if args.onnx_cache is not None:
        settings = settings.model_copy(update={"onnx_cache": args.onnx_cache.resolve()})
    cases = load_eval_set(EVAL_SET)
    cases = cases[: args.limit] if args.limit else cases
    texts = bench_texts(settings, [c.question for c in cases])
    texts = texts[: args.limit] if args.limit else texts
    embedders = {
        b: SentenceTransformerEmbedder(settings.model, settings.batch_size, b, settings.onnx_cache)  # type: ignore[arg-type]
        for b in BACKENDS
    }
    for e in embedders.values():  # warm-up
        e.embed(texts[:32])

    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    single: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(args.rounds):
        for b, e in embedders.items():
            started = time.perf_counter()
            e.embed(texts)
            rates[b].append(len(texts) / (time.perf_counter() - started))
            for case in cases:
                started = time.perf_counter()
                e.embed([case.question])
                single[b].append((time.perf_counter() - started) * 1000)
    vectors = {b: e.embed(texts) for b, e in embedders.items()}

    reports: dict[str, EvalReport] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for b, e in embedders.items():
            s = settings.model_copy(update={"backend": b, "index_dir": Path(tmp) / b})
            build_index(s.knowledge_dir, s.index_dir, e, s.splitter)
            reports[b] = evaluate(build_answerer(s, embedder=e), cases)
        mixed = make_retriever(load_index(Path(tmp) / "torch"), embedders["onnx-int8"], settings)
        mixed_report = evaluate(Answerer(mixed, settings.answer, settings.retrieval.top_k), cases)

    base_rate = statistics.median(rates["torch"])
    rows = [
        "| backend | texts/s | speed-up | 1 question (ms) | cosine to torch min / median | hit@1 | abstention P / R |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for b in BACKENDS:
        cos = np.sum(vectors[b] * vectors["torch"], axis=1)
        rate = statistics.median(rates[b])
        rows.append(
            f"| {b} | {rate:.1f} | {rate / base_rate:.2f}x | {statistics.median(single[b]):.1f} | "
            f"{cos.min():.4f} / {float(np.median(cos)):.4f} | {figures(reports[b])} |"
        )
    rows.append(f"| int8 queries / torch index | | | | | {figures(mixed_report)} |")
    print(
        f"{len(texts)} texts ({len(cases)} evaluation questions), batch {settings.batch_size}, median of {args.rounds}"
    )
    print("target: at least 1.5x at cosine >= 0.99 and unchanged hit@1\n")
    print("\n".join(rows))
    limit = f" --limit {args.limit}" if args.limit else ""
    print(f"\nreproduce: .venv/bin/python bench/onnx_backends.py --rounds {args.rounds}{limit}")


if __name__ == "__main__":
    main()
