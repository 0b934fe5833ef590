"""Warm answer latency over the evaluation set.

Reproduce with:  .venv/bin/python bench/latency.py [--rounds 5]
Builds the shipped knowledge into a temporary index, loads the model once, then times
question-in/answer-out for every evaluation question (median and p99 over all rounds).
Cold `policybot ask` (a fresh process) is timed, step by step, by bench/cold_start.py.
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

from bot.answering.evaluation import load_eval_set  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each question is asked")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ROOT / "config.yaml").model_copy(update={"index_dir": Path(tmp) / "index"})
        started = time.perf_counter()
        embedder = SentenceTransformerEmbedder(settings.model)
        load_s = time.perf_counter() - started
        report = build_index(settings.knowledge_dir, settings.index_dir, embedder, settings.splitter)
        questions = [case.question for case in load_eval_set(ROOT / "tests" / "data" / "eval.yaml")]
        modes = dict.fromkeys(("dense", "hybrid", settings.retrieval.mode))  # the configured one included
        per_mode: dict[str, list[float]] = {mode: [] for mode in modes}  # same questions, one run
        answerers = {
            mode: build_answerer(
                settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"mode": mode})}),
                embedder=embedder,
            )
            for mode in per_mode
        }
        for question in questions:  # warm-up
            for one in answerers.values():
                one.ask(question)
        for _ in range(args.rounds):
            for mode, one in answerers.items():
                for question in questions:
                    t0 = time.perf_counter()
                    one.ask(question)
                    per_mode[mode].append((time.perf_counter() - t0) * 1000)
        total = per_mode[settings.retrieval.mode]
        answerer = answerers[settings.retrieval.mode]
        embed = []
        for _ in range(args.rounds):
            for question in questions:
                t0 = time.perf_counter()
                answerer.retriever.embed_query(question)
                embed.append((time.perf_counter() - t0) * 1000)
        long_question = "What does the plan say about skills? " * 2800
        t0 = time.perf_counter()
        try:
            answerer.ask(long_question)
        except Exception as exc:  # the refusal is the expected outcome
            refusal = type(exc).__name__
        long_ms = (time.perf_counter() - t0) * 1000

    print(f"index: {report.summary()}; model load {load_s:.1f}s")
    print(f"warm answer latency ({settings.retrieval.mode}) over {len(questions)} questions x {args.rounds} rounds:")
    print(f"  p50 {statistics.median(total):.1f} ms   p99 {percentile(total, 99):.1f} ms   max {max(total):.1f} ms")
    print(f"  query embedding alone (separate pass): p50 {statistics.median(embed):.1f} ms")
    for mode, values in per_mode.items():
        print(f"  mode {mode:7s} p50 {statistics.median(values):.1f} ms   p99 {percentile(values, 99):.1f} ms")
    ratio = statistics.median(per_mode["hybrid"]) / statistics.median(per_mode["dense"])
    print(f"  hybrid / dense p50 ratio: {ratio:.2f} (target: at most 2)")
    print(f"100 KB question: {refusal} after {long_ms:.2f} ms")
    print(f"reproduce: .venv/bin/python bench/latency.py --rounds {args.rounds}")


if __name__ == "__main__":
    main()
