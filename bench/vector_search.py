"""Vector search by corpus size: exact (flat) against approximate (IVF, HNSW) indexes, as the bot builds them.

Reproduce with:  .venv/bin/python bench/vector_search.py [--sizes 10000 100000 1000000] [--real 10000]
(`--quick` = --sizes 10000 100000 --real 2000 --queries 50 --hnsw-max 10000, a few minutes.)
Real rows: `--real` passages of SciFact abstracts (three sentences each, from
../shared/datasets/scifact, read only; generated policy passages when it is absent) embedded with
all-MiniLM-L6-v2 (cached in /tmp), queried with SciFact claims. Synthetic rows: 1,000 Gaussian
clusters in 384 dimensions, L2-normalized, queried with noisy copies of corpus vectors.
Indexes are built with `VectorIndex.build` (IndexIDMap2 around the FAISS index, IVF trained on the
vectors) and default search parameters. Each query is searched alone after a warm-up; "with
embedding" adds embedding a real question with the real model before each search (as a warm bot
does). Recall@10 is against exact search. HNSW is skipped above --hnsw-max (its build dominates).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reembed import COUNTRIES, seed_sentences, vary  # noqa: E402
from bench.scifact import DATA, load  # noqa: E402
from embeddings.embedder import BACKENDS, SentenceTransformerEmbedder  # noqa: E402
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings  # noqa: E402

DIM = 384
CACHE = Path(tempfile.gettempdir()) / "policybot-bench"
TARGETS_MS = {10_000: 15.0, 1_000_000: 30.0}  # warm query p50, embedding included (issue #8)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


@dataclass
class Row:
    n: int
    data: str
    kind: str
    auto: bool
    build_s: float
    index_mb: float
    rss_mb: float
    search: list[float]
    with_embedding: list[float]
    recall: float


def real_texts(n: int) -> tuple[str, list[str], list[str]]:
    """(source, passages, questions): SciFact abstracts cut into three-sentence passages, or generated ones."""
    if DATA.is_file():
        data = load(DATA)
        passages = []
        for title, text in data.corpus.values():
            sentences = SENTENCE.split(text)
            passages += [f"{title}. " + " ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        return "scifact", passages[:n], list(data.queries.values())
    rng = random.Random(7)
    pool = seed_sentences()
    passages = [" ".join(vary(s, rng, COUNTRIES[i % 20]) for s in rng.sample(pool, 3)) for i in range(n)]
    questions = [f"What did {c} decide about {w}?" for c in COUNTRIES for w in ("research", "skills", "exports")]
    return "generated", passages, questions


def real_corpus(n: int, embedder: SentenceTransformerEmbedder) -> tuple[str, np.ndarray, list[str]]:
    """(source, passage vectors, questions); the vectors are cached in /tmp between runs."""
    source, passages, questions = real_texts(n)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"vectors-{source}-{len(passages)}-{embedder.name.replace('/', '_')}.npy"
    if path.is_file():
        return source, np.load(path), questions
    vectors = embedder.embed(passages)
    np.save(path, vectors)
    return source, vectors, questions


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((1000, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 1000, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    faiss.normalize_L2(x)
    return x


def rss_mb() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    index: VectorIndex,
    queries: np.ndarray | None,
    questions: list[str],
    embedder: SentenceTransformerEmbedder,
    k: int = 10,
) -> tuple[list[float], list[float], np.ndarray]:
    """(search ms, embed+search ms, ids found) per question; `queries` None = search each question's embedding."""
    index.search(embedder.embed(questions[:3]), k)  # warm-up
    search, total, found = [], [], []
    for i, question in enumerate(questions):
        started = time.perf_counter()
        vector = embedder.embed([question])[0]
        embedded = time.perf_counter()
        _, ids = index.search(vector if queries is None else queries[i], k)
        done = time.perf_counter()
        search.append((done - embedded) * 1000)
        total.append((done - started) * 1000)
        found.append(ids[0])
    return search, total, np.array(found)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def rows_for(
    x: np.ndarray,
    data: str,
    queries: np.ndarray | None,
    questions: list[str],
    embedder: SentenceTransformerEmbedder,
    hnsw_max: int,
    work: Path,
    exact_up_to: int,
) -> list[Row]:
    n = len(x)
    ids = np.arange(n, dtype=np.int64)
    auto = VectorIndexSettings(exact_up_to=exact_up_to).resolve(n)
    kinds = ["flat", "ivf"] + (["hnsw"] if n <= hnsw_max else [])
    rows, truth = [], None
    for kind in kinds:
        before = rss_mb()
        started = time.perf_counter()
        index = VectorIndex.build(DIM, ids, x, VectorIndexSettings(type=kind))
        build = time.perf_counter() - started
        grown = rss_mb() - before
        index.save(work / "vectors.faiss")
        size = (work / "vectors.faiss").stat().st_size / 2**20
        search, total, found = measure(index, queries, questions, embedder)
        truth = found if truth is None else truth  # flat comes first: exact
        label = {"flat": "exact (flat)", "ivf": "IVF", "hnsw": "HNSW"}[kind]
        described = VectorIndexSettings(type=kind).describe(n)
        label += f" ({described.split(' ', 1)[1]})" if " " in described else ""
        rows.append(Row(n, data, label, kind == auto, build, size, grown, search, total, recall(found, truth)))
        del index
    return rows


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def print_tables(rows: list[Row], command: str, exact_up_to: int) -> None:
    print("## Vector search by corpus size\n")
    print(
        "Exact (flat) against approximate (IVF, HNSW) indexes built by `VectorIndex.build`; one query at a time; "
        f"**auto** marks what `vector_index.type: auto` (exact up to {exact_up_to:,} passages) builds. "
        "Measured on a shared 2-core machine (noisy).\n"
    )
    print(
        "| passages | vectors | index | auto | build s | index MB | RSS +MB | search p50 ms | search p99 ms "
        "| with embedding p50 ms | with embedding p99 ms | recall@10 |"
    )
    print("|---:|---|---|:---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.n:,} | {r.data} | {r.kind} | {'**auto**' if r.auto else ''} | {r.build_s:.2f} | {r.index_mb:.1f} "
            f"| {r.rss_mb:.0f} | {p(r.search, 50):.2f} | {p(r.search, 99):.2f} | {p(r.with_embedding, 50):.1f} "
            f"| {p(r.with_embedding, 99):.1f} | {r.recall:.3f} |"
        )
    print("\n### Growth: what `auto` builds, by corpus size\n")
    print(
        "| passages | vectors | auto builds | build s | index MB | search p50 ms | with embedding p50 ms "
        "| recall@10 | exact search p50 ms | target (with embedding) |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if not r.auto:
            continue
        exact = next(e for e in rows if e.n == r.n and e.data == r.data and e.kind.startswith("exact"))
        target = TARGETS_MS.get(r.n)
        verdict = f"< {target:.0f} ms: {'met' if p(r.with_embedding, 50) < target else 'MISSED'}" if target else ""
        print(
            f"| {r.n:,} | {r.data} | {r.kind} | {r.build_s:.2f} | {r.index_mb:.1f} | {p(r.search, 50):.2f} "
            f"| {p(r.with_embedding, 50):.1f} | {r.recall:.3f} | {p(exact.search, 50):.2f} | {verdict} |"
        )
    print(f"\nreproduce: `{command}`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="synthetic")
    parser.add_argument("--real", type=int, default=10_000, help="real embedded passages; 0 = none")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    parser.add_argument("--exact-up-to", type=int, default=VectorIndexSettings().exact_up_to, help="auto's threshold")
    parser.add_argument("--quick", action="store_true", help="small sizes, for the report (a few minutes)")
    parser.add_argument("--backend", default="torch", choices=BACKENDS, help="encoder for the questions")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.real, args.queries, args.hnsw_max = [10_000, 100_000], 2_000, 50, 10_000
        command = ".venv/bin/python bench/vector_search.py --quick"
    else:
        command = (
            f".venv/bin/python bench/vector_search.py --sizes {' '.join(map(str, args.sizes))} "
            f"--real {args.real} --queries {args.queries} --hnsw-max {args.hnsw_max} --exact-up-to {args.exact_up_to}"
            f" --backend {args.backend}"
        )
    embedder = SentenceTransformerEmbedder(backend=args.backend)
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.real:
            source, x, questions = real_corpus(args.real, embedder)
            questions = (questions * (args.queries // max(1, len(questions)) + 1))[: args.queries]
            rows += rows_for(x, f"real ({source})", None, questions, embedder, args.hnsw_max, work, args.exact_up_to)
            print(f"real ({source}) {len(x)}: done", file=sys.stderr)
        _, _, questions = real_texts(0)
        questions = (questions * (args.queries // max(1, len(questions)) + 1))[: args.queries]
        for n in args.sizes:
            x = synthetic(n, rng)
            queries = x[rng.integers(0, n, args.queries)] + 0.05 * rng.standard_normal((args.queries, DIM)).astype(
                np.float32
            )
            faiss.normalize_L2(queries)
            rows += rows_for(x, "synthetic", queries, questions, embedder, args.hnsw_max, work, args.exact_up_to)
            print(f"synthetic {n}: done", file=sys.stderr)
            del x
    print_tables(rows, command, args.exact_up_to)


if __name__ == "__main__":
    main()
