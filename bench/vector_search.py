"""Vector search at 10k, 100k and 1M passages: exact (IndexFlatIP) against ANN (HNSW, IVF).

Reproduce with:  .venv/bin/python bench/vector_search.py [--sizes 10000 100000 1000000]
Vectors are synthetic (a mixture of 1,000 Gaussian clusters in 384 dimensions, L2-normalized,
like sentence embeddings); queries are noisy copies of corpus vectors. Each query is searched
alone (as the bot does), after a warm-up; recall@10 is measured against exact search.
HNSW is skipped above --hnsw-max (its build dominates at 1M on two cores).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import faiss
import numpy as np

DIM = 384


def corpus(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((1000, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 1000, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    faiss.normalize_L2(x)
    return x


def time_queries(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    index.search(queries[:5], k)  # warm-up
    latencies, found = [], []
    for q in queries:
        started = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return latencies, np.array(found)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(
        f"{'n':>9s} {'index':22s} {'build s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'recall@10':>9s} {'peak RSS MB':>11s}"
    )
    for n in args.sizes:
        x = corpus(n, rng)
        queries = x[rng.integers(0, n, args.queries)] + 0.05 * rng.standard_normal((args.queries, DIM)).astype(
            np.float32
        )
        faiss.normalize_L2(queries)
        started = time.perf_counter()
        exact = faiss.IndexFlatIP(DIM)
        exact.add(x)
        build = time.perf_counter() - started
        lat, truth = time_queries(exact, queries)
        print(
            f"{n:9d} {'exact (FlatIP)':22s} {build:8.1f} {statistics.median(lat):7.2f} "
            f"{np.percentile(lat, 99):7.2f} {1.0:9.3f} {rss_mb():11.0f}"
        )
        candidates: list[tuple[str, faiss.Index]] = []
        if n <= args.hnsw_max:
            hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 80
            candidates.append(("HNSW32 ef=64", hnsw))
        nlist = int(4 * np.sqrt(n))
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        candidates.append((f"IVF{nlist} nprobe=16", ivf))
        for name, index in candidates:
            started = time.perf_counter()
            if not index.is_trained:
                index.train(x[rng.choice(n, min(n, 50 * nlist), replace=False)])
            index.add(x)
            build = time.perf_counter() - started
            if isinstance(index, faiss.IndexHNSWFlat):
                index.hnsw.efSearch = 64
            else:
                index.nprobe = 16
            lat, found = time_queries(index, queries)
            print(
                f"{n:9d} {name:22s} {build:8.1f} {statistics.median(lat):7.2f} "
                f"{np.percentile(lat, 99):7.2f} {recall(found, truth):9.3f} {rss_mb():11.0f}"
            )
        del x, exact, candidates
    print("(add ~10 ms for the query embedding; see bench/latency.py)")
    print(f"reproduce: .venv/bin/python bench/vector_search.py --sizes {' '.join(map(str, args.sizes))}")


if __name__ == "__main__":
    main()
