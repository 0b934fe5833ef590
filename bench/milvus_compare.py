"""FAISS (embedded, the default) against Milvus Lite as the vector store, at one corpus size.

Reproduce with:  .venv/bin/python bench/milvus_compare.py [--n 100000] [--queries 200] [--milvus-index AUTOINDEX FLAT]
Synthetic data as in bench/vector_search.py: 1,000 Gaussian clusters in 384 dimensions,
L2-normalized, queried with noisy copies of corpus vectors. FAISS indexes are built with
`VectorIndex.build` (what `vector_index.type: auto` picks for the size, and exact flat); Milvus
collections with `MilvusVectors.create`, as `policybot index` fills them (insert in batches,
flush, load; the build time lasts until the first search answers). Each query is searched
alone after a warm-up; recall@10 is against exact search and must reach 0.95.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.vector_search import DIM, recall, synthetic  # noqa: E402
from embeddings.vectors.base import StoreSettings  # noqa: E402
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings  # noqa: E402
from embeddings.vectors.milvus import MilvusVectors  # noqa: E402

K = 10
MIN_RECALL = 0.95


def timed_searches(search: object, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Milliseconds per single-query search, and the ids found (n_queries x K)."""
    run = search  # a callable (query matrix of one row) -> (scores, ids)
    run(queries[:1])  # type: ignore[operator]  # warm-up
    times, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = run(q.reshape(1, -1))  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
        found.append(ids[0][:K])
    return times, np.array(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="passages (synthetic vectors)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--milvus-index", nargs="+", default=["AUTOINDEX"], help="Milvus index types to build")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x = synthetic(args.n, rng)
    ids = np.arange(args.n, dtype=np.int64) * 3 + 1  # passage ids are not row numbers
    picks = rng.choice(args.n, args.queries, replace=False)
    noise = rng.standard_normal((args.queries, DIM)) * 0.3 / np.sqrt(DIM)
    queries = np.ascontiguousarray(x[picks] + noise, dtype=np.float32)
    faiss.normalize_L2(queries)
    exact = VectorIndex.build(DIM, ids, x, VectorIndexSettings(type="flat"))
    _, truth = exact.search(queries, K)

    rows: list[tuple[str, float, list[float], float]] = []
    auto = VectorIndexSettings()
    for label, settings in ((f"FAISS {auto.describe(args.n)} (auto)", auto), ("FAISS flat (exact)", None)):
        start = time.perf_counter()
        index = VectorIndex.build(DIM, ids, x, settings or VectorIndexSettings(type="flat"))
        build = time.perf_counter() - start
        times, found = timed_searches(lambda q, index=index: index.search(q, K), queries)
        rows.append((label, build, times, recall(found, truth)))

    countries = [["Germany", "France", "Japan"][i % 3] for i in range(args.n)]
    fields = {"country": countries, "doc": [f"doc{i // 50}.md" for i in range(args.n)]}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.milvus_index:
            store = StoreSettings.from_uri(str(Path(tmp) / f"{kind.lower()}.db"), milvus_index=kind, timeout=600)
            start = time.perf_counter()
            vectors = MilvusVectors.create(store, f"bench_{kind.lower()}", DIM, ids, x, fields)
            vectors.search(queries[:1], K)
            build = time.perf_counter() - start
            times, found = timed_searches(lambda q, v=vectors: v.search(q, K), queries)
            rows.append((f"Milvus Lite {kind}", build, times, recall(found, truth)))

    base = float(np.median(rows[0][2]))
    print(f"### Vector store: {args.n:,} passages, {DIM} dimensions, {args.queries} single-query searches, top {K}\n")
    print("| store | build s | p50 ms | p99 ms | p50 vs FAISS auto | recall@10 |")
    print("| --- | --- | --- | --- | --- | --- |")
    ok = True
    for label, build, times, rec in rows:
        p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
        print(f"| {label} | {build:.1f} | {p50:.2f} | {p99:.2f} | {p50 / base:.1f}x | {rec:.3f} |")
        ok = ok and (rec >= MIN_RECALL or not label.startswith("Milvus"))
    command = f".venv/bin/python bench/milvus_compare.py --n {args.n} --queries {args.queries}"
    print(f"\nreproduce: `{command} --milvus-index {' '.join(args.milvus_index)}`")
    if not ok:
        print(f"Milvus recall@10 below {MIN_RECALL}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
