"""IVF recall against lists searched, on real embeddings, to set `vector_index.ivf_nprobe`'s default.

Reproduce with:  .venv/bin/python bench/ivf_probes.py [--sizes 5000 10000 20000 0] [--probes 8 16 32 64 128]

Corpus: SciFact's sentences (../shared/datasets/scifact, read only), each with its title, embedded
with all-MiniLM-L6-v2 (cached in /tmp); queries: SciFact's claims (train and test), embedded the same
way. For each size (0 = every sentence) the IVF index is built as the bot builds it
(`VectorIndex.build`, nlist from `VectorIndexSettings.nlist`), then searched with each nprobe;
recall@10 is against exact search over the same vectors. The lists searched that reach a recall
show how nprobe must grow with nlist; `--index DIR` also times each nprobe on a version's saved
vectors.faiss (a million generated passages from bench/scale.py, whose recall means nothing:
their vectors are noisy copies of 1,500 real ones).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scifact import DATA, load  # noqa: E402
from bench.vector_search import CACHE, SENTENCE  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.vectors.faiss import VectorIndex, VectorIndexSettings  # noqa: E402


def corpus(embedder: SentenceTransformerEmbedder) -> tuple[np.ndarray, np.ndarray]:
    """(sentence vectors, claim vectors), cached between runs."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"ivf-probes-{embedder.name.replace('/', '_')}.npz"
    if path.is_file():
        saved = np.load(path)
        return saved["sentences"], saved["claims"]
    data, train = load(DATA, "test"), load(DATA, "train")
    sentences = [f"{title}. {s}" for title, text in data.corpus.values() for s in SENTENCE.split(text) if s]
    claims = list(data.queries.values()) + list(train.queries.values())
    vectors, queries = embedder.embed(sentences), embedder.embed(claims)
    np.savez(path, sentences=vectors, claims=queries)
    return vectors, queries


def sweep(x: np.ndarray, queries: np.ndarray, probes: list[int], k: int = 10) -> list[tuple[int, float, float]]:
    """(nprobe, recall@k, search p50 ms) for an IVF index over `x`, as the bot builds it."""
    ids = np.arange(len(x), dtype=np.int64)
    exact = VectorIndex.build(x.shape[1], ids, x, VectorIndexSettings(type="flat"))
    _, truth = exact.search(queries, k)
    index = VectorIndex.build(x.shape[1], ids, x, VectorIndexSettings(type="ivf"))  # trained once
    rows = []
    for nprobe in probes:
        index.configure(VectorIndexSettings(type="ivf", ivf_nprobe=nprobe))
        found, times = timed(index, queries, k)
        hits = [len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]
        rows.append((nprobe, float(np.mean(hits)), float(np.median(times))))
    return rows


def timed(index: VectorIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """Ids found and milliseconds per query, one query at a time (as a bot answers)."""
    index.search(queries[:1], k)
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query, k)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return np.array(found), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 10_000, 20_000, 0])
    parser.add_argument("--probes", type=int, nargs="+", default=[4, 8, 16, 24, 32, 48, 64, 96, 128])
    parser.add_argument("--index", type=Path, help="also time each nprobe on this version's vectors.faiss")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    vectors, queries = corpus(embedder)
    order = np.random.default_rng(0).permutation(len(vectors))
    print(f"{len(vectors):,} SciFact sentences, {len(queries):,} claims\n")
    print("| vectors | nlist | nprobe | share searched | recall@10 | search p50 ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        x = vectors[np.sort(order[: size or len(vectors)])]
        nlist = VectorIndexSettings().nlist(len(x))
        for nprobe, found, ms in sweep(x, queries, [p for p in args.probes if p <= nlist]):
            print(f"| {len(x):,} | {nlist} | {nprobe} | {nprobe / nlist:.3f} | {found:.3f} | {ms:.2f} |")
    if args.index:
        index = VectorIndex.load(args.index / "vectors.faiss")
        print(f"\n{args.index}: {index.count:,} vectors (timing only)\n")
        print("| nprobe | search p50 ms |")
        print("|---:|---:|")
        for nprobe in sorted({*args.probes, VectorIndexSettings().nprobe(VectorIndexSettings().nlist(index.count))}):
            index.configure(VectorIndexSettings(ivf_nprobe=nprobe))
            _, times = timed(index, queries[:300], 10)
            print(f"| {nprobe} | {np.median(times):.2f} |")
    command = " ".join([".venv/bin/python bench/ivf_probes.py", *sys.argv[1:]])
    print(f"\nreproduce: `{command}`")


if __name__ == "__main__":
    main()
