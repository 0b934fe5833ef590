"""BEIR SciFact with PolicyBot's own pipeline: nDCG@10, recall@10/100 and MRR@10 for dense,
lexical and hybrid retrieval, against the published figures.

Reproduce with:  .venv/bin/python bench/scifact.py [--work /tmp/policybot-scifact] [--split test|train]
                 [--backend torch|onnx|onnx-int8] [--runtime openvino] [--sweep]
The data is read from ../shared/datasets/scifact/scifact.zip (evaluation only; never copied into
the repository). Documents are written as text files with a sidecar title into --work, indexed
with `build_index` (incremental: a second run reuses the index), and each query is answered by
the Retriever; a document's score is its best passage's.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import math
import re
import statistics
import sys
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.embedder import BACKENDS, RUNTIMES, SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.index.loaded import load_index  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings  # noqa: E402
from embeddings.retrieval import MODES, Retriever  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "scifact" / "scifact.zip"
PUBLISHED = {"dense": 0.645, "lexical": 0.687}


@dataclass
class Scifact:
    corpus: dict[str, tuple[str, str]]  # doc id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, set[str]]


def load(path: Path, split: str = "test") -> Scifact:
    """BEIR conventions: a document is its title and its sentences joined by one space."""
    csv.field_size_limit(sys.maxsize)
    with zipfile.ZipFile(path) as archive:

        def rows(name: str) -> list[dict[str, str]]:
            return list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))

        corpus = {}
        for row in rows("corpus_train.csv"):
            sentences = [
                ast.literal_eval(s) for s in re.findall(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", row["abstract"])
            ]
            corpus[row["doc_id"]] = (row["title"], " ".join(s.strip() for s in sentences))
        claims = rows("claims_validation.csv" if split == "test" else "claims_train.csv")
    queries: dict[str, str] = {}
    qrels: dict[str, set[str]] = defaultdict(set)
    for row in claims:
        queries[row["id"]] = row["claim"]
        qrels[row["id"]].update(re.findall(r"\d+", row["cited_doc_ids"]))
    return Scifact(corpus, queries, dict(qrels))


def write_knowledge(data: Scifact, folder: Path) -> None:
    """One text file per document, its title in a sidecar; unchanged files are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, text) in data.corpus.items():
        path = folder / f"{doc_id}.txt"
        if not path.exists():
            path.write_text(text + "\n", encoding="utf-8")
            (folder / f"{doc_id}.txt.meta.yaml").write_text(
                f"title: {title!r}\n".replace("\\'", "''"), encoding="utf-8"
            )


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal if ideal else 0.0


def passage_vectors_only(retriever: Retriever, query: str, depth: int) -> list[str]:
    """Documents ranked by their best passage vector alone: the published all-MiniLM-L6-v2 setting
    (one vector per document), to check the pipeline against the published figure."""
    index = retriever.index
    _, ids = index.vectors.search(retriever.embed_query(query), depth)
    return [index.passages[int(pid)].doc for pid in ids[0] if pid >= 0]


def policybot_ranking(retriever: Retriever, query: str, depth: int) -> list[str]:
    return [hit.passage.doc for hit in retriever.search(query, retriever.embed_query(query), depth)]


def with_acronyms(retriever: Retriever, query: str, depth: int) -> list[str]:
    """As the bot asks: acronyms defined in the corpus added to the keywords in their other form."""
    keywords = retriever.index.acronym_usage.expand(query)
    return [hit.passage.doc for hit in retriever.search(keywords, retriever.embed_query(query), depth)]


Ranking = Callable[[Retriever, str, int], list[str]]


def evaluate(
    retriever: Retriever, data: Scifact, depth: int = 100, rank: Ranking = policybot_ranking
) -> dict[str, float]:
    ndcg, r10, r100, mrr, latency = [], [], [], [], []
    for qid, query in data.queries.items():
        started = time.perf_counter()
        docs = rank(retriever, query, depth)
        latency.append((time.perf_counter() - started) * 1000)
        ranked: list[str] = []
        for doc_path in docs:  # passages -> documents, best passage first
            doc = doc_path.removesuffix(".txt")
            if doc not in ranked:
                ranked.append(doc)
        relevant = data.qrels[qid]
        ndcg.append(ndcg_at_10(ranked, relevant))
        r10.append(len(relevant & set(ranked[:10])) / len(relevant))
        r100.append(len(relevant & set(ranked[:100])) / len(relevant))
        mrr.append(next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0))
    return {
        "nDCG@10": statistics.mean(ndcg),
        "recall@10": statistics.mean(r10),
        "recall@100": statistics.mean(r100),
        "MRR@10": statistics.mean(mrr),
        "p50_ms": statistics.median(latency),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--work", type=Path, default=Path("/tmp/policybot-scifact"))
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--sweep", action="store_true", help="also try other fusions and weights (for tuning on train)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="the encoder backend (config's `backend`)")
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="onnxruntime",
        help="what embeds the corpus with --backend onnx (config's `build_runtime`; queries always onnxruntime)",
    )
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"SciFact not found at {args.data}")
    started = time.perf_counter()
    data = load(args.data, args.split)
    print(
        f"SciFact {args.split}: {len(data.corpus)} documents, {len(data.queries)} queries, "
        f"{sum(len(v) for v in data.qrels.values())} relevant pairs"
    )
    write_knowledge(data, args.work / "knowledge")
    from bot.config import load_settings

    settings = load_settings(ROOT / "config.yaml")
    embedder = SentenceTransformerEmbedder(backend=args.backend, onnx_cache=settings.onnx_cache)
    builder = embedder
    name = "index" if args.backend == "torch" else f"index-{args.backend}"
    if args.backend == "onnx" and args.runtime != "onnxruntime":
        builder = SentenceTransformerEmbedder(backend="onnx", onnx_cache=settings.onnx_cache, runtime=args.runtime)
        name += f"-{args.runtime}"
    index_dir = args.work / name
    report = build_index(args.work / "knowledge", index_dir, builder, SplitterSettings())
    print(f"index ({args.backend}): {report.summary()}")
    index = load_index(index_dir)
    r = settings.retrieval
    print(
        f"{'mode':34s} {'nDCG@10':>8s} {'recall@10':>10s} {'recall@100':>11s} {'MRR@10':>7s} {'p50 ms':>7s}  published"
    )

    def row(label: str, figures: dict[str, float], published: float | None = None) -> None:
        print(
            f"{label:34s} {figures['nDCG@10']:8.3f} {figures['recall@10']:10.3f} {figures['recall@100']:11.3f} "
            f"{figures['MRR@10']:7.3f} {figures['p50_ms']:7.1f}  {published or ''}"
        )

    plain = Retriever(index, embedder, r.model_copy(update={"mode": "dense"}))
    row("dense, passage vectors only", evaluate(plain, data, rank=passage_vectors_only), PUBLISHED["dense"])
    for mode in MODES:
        label = f"{mode} ({r.fusion}, w={r.lexical_weight})" if mode == "hybrid" else mode
        if mode == "dense":
            label = "dense (passage + best sentence)"
        retriever = Retriever(index, embedder, r.model_copy(update={"mode": mode}))
        row(label, evaluate(retriever, data), PUBLISHED.get(mode))
        if mode == "hybrid":
            row(f"{label} + acronyms", evaluate(retriever, data, rank=with_acronyms))
    if args.sweep:
        variants = [("weighted", 0.1), ("weighted", 0.2), ("weighted", 0.3), ("weighted", 0.5), ("rrf", 0.0)]
        for fusion, weight in variants:
            hybrid = r.model_copy(update={"mode": "hybrid", "fusion": fusion, "lexical_weight": weight})
            retriever = Retriever(index, embedder, hybrid)
            row(f"hybrid ({fusion}{'' if fusion == 'rrf' else f', w={weight}'})", evaluate(retriever, data))
    print(f"total {time.perf_counter() - started:.0f}s")
    backend = "" if args.backend == "torch" else f" --backend {args.backend}"
    runtime = f" --runtime {args.runtime}" if builder is not embedder else ""
    sweep = " --sweep" if args.sweep else ""
    print(f"reproduce: .venv/bin/python bench/scifact.py --split {args.split}{backend}{runtime}{sweep}")


if __name__ == "__main__":
    main()
