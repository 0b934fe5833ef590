"""Capacity of one replica: index build rate, memory per passage, questions per second.

Reproduce with:  .venv/bin/python bench/capacity.py [--docs 150] [--questions 200] [--backend onnx]
Builds an index of generated policy briefs (bench/reembed.py's corpus), then loads it as a bot
replica does and answers generated questions, one at a time and from two threads at once. Memory
is the process's resident set before and after loading the index (the model's share is shown
apart: it is paid once per replica, whatever the corpus size). The figures feed the capacity table
in docs/deploy.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reembed import COUNTRIES, TOPICS, write_corpus  # noqa: E402
from vector_search import rss_mb  # noqa: E402

from bot.answering.answerer import Answerer, make_retriever  # noqa: E402
from bot.config import load_settings  # noqa: E402
from embeddings.embedder import BACKENDS, SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.index.loaded import load_index  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings  # noqa: E402

MB = 1024 * 1024


def loaded_index_bytes(index_dir: Path) -> int:
    """What loading the index adds to a fresh process's resident set (this process's allocator
    still holds the memory the build used, which would hide it)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); from vector_search import rss_mb; "
        "from embeddings.index.loaded import load_index; "
        "before = rss_mb(); index = load_index(__import__('pathlib').Path(sys.argv[1])).warm(); "
        "print(round((rss_mb() - before) * 2**20))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(index_dir), str(ROOT / "bench")],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return int(result.stdout.split()[-1])


def questions(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    forms = [
        "What does {c} do about {t}?",
        "How is {t} funded in {c}?",
        "Which agency leads {t} policy in {c}?",
        "What did the {c} plan say about {t}?",
    ]
    return [rng.choice(forms).format(c=rng.choice(COUNTRIES), t=rng.choice(TOPICS).lower()) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=150, help="generated documents (about 16 passages each)")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--backend", default="onnx", choices=BACKENDS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    before_model = rss_mb() * MB
    embedder = SentenceTransformerEmbedder(backend=args.backend)
    embedder.embed(["warm up"])
    model_bytes = rss_mb() * MB - before_model
    with tempfile.TemporaryDirectory() as tmp:
        knowledge, index_dir = Path(tmp) / "knowledge", Path(tmp) / "index"
        knowledge.mkdir()
        write_corpus(knowledge, args.docs, args.seed)
        started = time.perf_counter()
        report = build_index(knowledge, index_dir, embedder, SplitterSettings())
        build_s = time.perf_counter() - started
        disk = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())

        index_bytes = loaded_index_bytes(index_dir)
        index = load_index(index_dir).warm()
        settings = load_settings(ROOT / "config.yaml")
        answerer = Answerer(make_retriever(index, embedder, settings), settings.answer, settings.retrieval.top_k)
        asked = questions(args.questions, args.seed)
        for question in asked[:5]:
            answerer.ask(question)  # warm-up

        latencies = []
        started = time.perf_counter()
        for question in asked:
            t0 = time.perf_counter()
            answerer.ask(question)
            latencies.append((time.perf_counter() - t0) * 1000)
        serial_qps = len(asked) / (time.perf_counter() - started)
        with ThreadPoolExecutor(max_workers=2) as pool:
            started = time.perf_counter()
            list(pool.map(answerer.ask, asked))
            parallel_qps = len(asked) / (time.perf_counter() - started)

    passages = report.passages
    per_passage = index_bytes / passages
    print(f"## Capacity of one replica ({args.backend} backend)\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| corpus | {args.docs} documents, {passages:,} passages, {report.embedded_texts:,} texts embedded |")
    print(f"| index build rate | {passages / build_s:,.1f} passages/s ({build_s:.1f} s in all) |")
    print(f"| model in memory (once per replica) | {model_bytes / MB:,.0f} MB |")
    print(f"| index in memory | {index_bytes / MB:,.1f} MB = {per_passage / 1024:,.1f} KB per passage |")
    print(f"| passages per GB of memory (index only) | {1024**3 / per_passage:,.0f} |")
    print(f"| index on disk | {disk / MB:,.1f} MB = {disk / passages / 1024:,.1f} KB per passage |")
    print(f"| answer latency, one at a time | p50 {statistics.median(latencies):.1f} ms |")
    print(f"| questions per second, one at a time | {serial_qps:,.1f} |")
    print(f"| questions per second, two threads | {parallel_qps:,.1f} |")
    print(
        f"\nreproduce: .venv/bin/python bench/capacity.py --docs {args.docs} --questions {args.questions} "
        f"--backend {args.backend} --seed {args.seed}"
    )


if __name__ == "__main__":
    main()
