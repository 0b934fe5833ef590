"""Scale of one replica: memory, disk and answer latency at 10k, 100k and 1M passages.

Reproduce with:  .venv/bin/python bench/scale.py [--sizes 10000 100000 1000000] [--questions 200]
(`--keep DIR` keeps each size's index in DIR/index-SIZE; `--serve DIR/index-SIZE [--nprobe N]`
serves a kept one again as a fresh replica, e.g. to compare search settings on the same index.)
Generates policy briefs as bench/reembed.py does (the shipped page's sentences recombined with
other countries, years and figures), splits them with the real splitter, and writes each size's
index with the real `write_version` and the configured vector index (exact up to `exact_up_to`,
IVF above). Embedding a million passages would take hours here (bench/throughput.py measures
that rate), so vectors are real-sized but derived: a pool of generated passages and sentences is
embedded with the model, and each passage and sentence takes a pool vector plus a little noise
(normalized), which keeps the neighbourhood structure IVF clusters on. Each size is then served
by a fresh process, as a replica starts: load and warm the index, answer the questions with the
real model and `Answerer`. Memory is that process's resident set, the model's share apart, and
the index files' pages it holds (memory-mapped sentence vectors and keyword index, read from
/proc/self/smaps).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capacity import questions  # noqa: E402
from reembed import COUNTRIES, TOPICS, seed_sentences, vary  # noqa: E402
from vector_search import rss_mb  # noqa: E402

from embeddings.index import acronyms  # noqa: E402
from embeddings.index.meta import IndexMeta  # noqa: E402
from embeddings.ingest.documents import Document  # noqa: E402
from embeddings.ingest.splitter import SPLIT_RULES, SplitterSettings, split_document  # noqa: E402
from embeddings.passage import Passage, passage_id, passage_key  # noqa: E402

MB = 2**20
POOL = 1500  # generated passages really embedded; every other vector is derived from theirs
BASE_DOCS = 600  # briefs split for real (a multiple of the 20 countries); the rest vary their years
SOURCE = "https://example.org/briefs"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def generate(count: int, seed: int) -> Iterator[Passage]:
    """`count` passages of generated briefs (about 16 a brief, 4 headings of 3-5 paragraphs).

    The first `BASE_DOCS` briefs go through the real splitter; later ones repeat one of theirs
    with other years (same length, so the sentence spans stay true): sentence splitting costs
    ~4 ms a passage, over an hour for a million, which this bench is not about."""
    base: list[list[Passage]] = []
    for i in range(BASE_DOCS):
        base.append(split_document(_brief(i, seed), SplitterSettings()))
    made = 0
    for i in itertools.count():
        rng = random.Random(seed * 7_919 + i)
        year = functools.partial(lambda r, _: str(r.randint(1995, 2025)), rng)
        doc = f"briefs/brief-{i:07d}.md"
        for p in base[i % BASE_DOCS]:
            if made == count:
                return
            key = passage_key(doc, p.position)
            text = _YEAR.sub(year, p.text) if i >= BASE_DOCS else p.text
            title = f"Policy brief {i}: {p.metadata['country']}"
            yield replace(p, id=passage_id(key), key=key, doc=doc, title=title, text=text, source=f"{SOURCE}/{i}")
            made += 1


@functools.cache
def _pool() -> list[str]:
    return seed_sentences()


def _brief(i: int, seed: int) -> Document:
    pool = _pool()
    rng = random.Random(seed * 100_003 + i)
    country = COUNTRIES[i % len(COUNTRIES)]
    lines = [f"# Policy brief {i}\n"]
    for topic in rng.sample(TOPICS, 4):
        lines.append(f"## {topic}\n")
        for _ in range(rng.randint(3, 5)):
            lines.append(" ".join(vary(s, rng, country) for s in rng.sample(pool, 2)) + "\n")
    return Document(
        path=f"briefs/brief-{i:07d}.md",
        format="markdown",
        title=f"Policy brief {i}: {country}",
        body="\n".join(lines),
        source=f"{SOURCE}/{i}",
        metadata={"country": country},
    )


class DerivedVectors(Mapping[int, np.ndarray]):
    """Passage id -> its sentences' vectors: a pool sentence vector plus noise, made when asked
    (so a million passages' sentence vectors are never all in memory, as in a real build)."""

    def __init__(self, passages: dict[int, Passage], pool: np.ndarray, seed: int) -> None:
        self._passages, self._pool, self._seed = passages, pool, seed

    def __getitem__(self, pid: int) -> np.ndarray:
        n = len(self._passages[pid].sentences)
        rng = np.random.default_rng([self._seed, pid & 0xFFFFFFFF])
        return noisy(self._pool[rng.integers(0, len(self._pool), n)], rng)

    def __iter__(self) -> Iterator[int]:
        return iter(self._passages)

    def __len__(self) -> int:
        return len(self._passages)


def noisy(rows: np.ndarray, rng: np.random.Generator, scale: float = 0.35) -> np.ndarray:
    """Unit vectors near `rows` (cosine about 0.9 to them for 384 dimensions at this scale)."""
    out = rows + rng.standard_normal(rows.shape, dtype=np.float32) * (scale / np.sqrt(rows.shape[1]))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def write(index_dir: Path, count: int, seed: int, backend: str) -> dict[str, float]:
    """Generate and write one size's index (published); returns its figures."""
    from bot.config import load_settings
    from embeddings.embedder import SentenceTransformerEmbedder
    from embeddings.index.versions import publish, write_version

    settings = load_settings(ROOT / "config.yaml")
    started = time.perf_counter()
    passages = {p.id: p for p in generate(count, seed)}
    generate_s = time.perf_counter() - started
    embedder = SentenceTransformerEmbedder(backend=backend)
    sample = list(passages.values())[:POOL]
    passage_pool = embedder.embed([p.context_text() for p in sample])
    sentence_pool = embedder.embed([s for p in sample for s in p.sentence_texts()])
    rng = np.random.default_rng(seed)
    matrix = np.empty((len(passages), embedder.dimension), dtype=np.float32)
    for start in range(0, len(passages), 65_536):
        end = min(start + 65_536, len(passages))
        matrix[start:end] = noisy(passage_pool[rng.integers(0, len(passage_pool), end - start)], rng)
    definitions = acronyms.collect(p.text for p in passages.values())
    usage = acronyms.AcronymUsage.count(definitions, (p.context_text() for p in passages.values()))
    meta = IndexMeta(
        acronyms=definitions,
        acronym_counts={short: [uses, long_uses] for short, (_, uses, long_uses) in usage.table.items()},
        model=embedder.name,
        dimension=embedder.dimension,
        splitter=SplitterSettings().model_dump(),
        version=f"scale{count}",
        passages=len(passages),
        vector_index=settings.vector_index.resolve(len(passages)),
        split_rules=SPLIT_RULES,
    )
    hashes = {pid: f"{pid:016x}" for pid in passages}
    started = time.perf_counter()
    ordered = list(passages.values())
    write_version(
        index_dir,
        meta,
        ordered,
        hashes,
        matrix,
        DerivedVectors(passages, sentence_pool, seed),
        vector_settings=settings.vector_index,
    )
    publish(index_dir, meta.version)
    write_s = time.perf_counter() - started
    disk = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    sentences = sum(len(p.sentences) for p in ordered)
    return {"generate_s": generate_s, "write_s": write_s, "disk": disk, "sentences": sentences}


def mapped_index_bytes(index_dir: Path) -> dict[str, int]:
    """Resident bytes of this process's mappings of each file under `index_dir` (from smaps)."""
    found: dict[str, int] = {}
    name = None
    folder = str(index_dir.resolve())
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            name = Path(fields[5]).name if len(fields) >= 6 and fields[5].startswith(folder) else None
        elif name is not None and fields[0] == "Rss:":
            found[name] = found.get(name, 0) + int(fields[1]) * 1024
    return found


def serve(index_dir: Path, count: int, backend: str, seed: int, nprobe: int = 0) -> dict[str, float]:
    """As a fresh replica: load the model and the index (searched with config.yaml's `vector_index`,
    `nprobe` IVF lists if given), answer `count` questions; its figures."""
    from bot.answering.answerer import Answerer, make_retriever
    from bot.config import load_settings
    from embeddings.embedder import SentenceTransformerEmbedder
    from embeddings.index.loaded import load_index

    start_rss = rss_mb() * MB
    embedder = SentenceTransformerEmbedder(backend=backend)
    embedder.embed(["warm up"])
    model_rss = rss_mb() * MB
    settings = load_settings(ROOT / "config.yaml")
    search = settings.vector_index.model_copy(update={"ivf_nprobe": nprobe or settings.vector_index.ivf_nprobe})
    started = time.perf_counter()
    index = load_index(index_dir, search=search).warm()
    load_s = time.perf_counter() - started
    loaded_rss = rss_mb() * MB
    answerer = Answerer(make_retriever(index, embedder, settings), settings.answer, settings.retrieval.top_k)
    asked = questions(count, seed)
    for question in asked[:5]:
        answerer.ask(question)
    latencies = []
    for question in asked:
        t0 = time.perf_counter()
        answerer.ask(question)
        latencies.append((time.perf_counter() - t0) * 1000)
    return {
        "model": model_rss - start_rss,
        "index": loaded_rss - model_rss,
        "rss": rss_mb() * MB,
        "rss_index": rss_mb() * MB - model_rss,
        "mapped": sum(mapped_index_bytes(index_dir).values()),
        "mapped_files": mapped_index_bytes(index_dir),
        "load_s": load_s,
        "p50": statistics.median(latencies),
        "p99": float(np.percentile(latencies, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, help="write the indexes into this folder and keep them (re-serve with --serve)"
    )
    parser.add_argument("--serve", type=Path, help="only serve this index folder (a fresh replica)")
    parser.add_argument("--nprobe", type=int, default=0, help="IVF lists searched (0 = config.yaml's)")
    args = parser.parse_args()
    if args.serve is not None:
        print(json.dumps(serve(args.serve, args.questions, args.backend, args.seed, args.nprobe)))
        return

    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as tmp:
            index_dir = (args.keep / f"index-{size}") if args.keep else Path(tmp) / "index"
            built = write(index_dir, size, args.seed, args.backend)
            child = subprocess.run(
                [sys.executable, __file__, "--serve", str(index_dir), "--questions", str(args.questions),
                 "--backend", args.backend, "--seed", str(args.seed), "--nprobe", str(args.nprobe)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            served = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append((size, built, served))
        print(f"{size:,} passages: {json.dumps({**built, **served})}", file=sys.stderr, flush=True)

    print(f"## One replica at scale ({args.backend} backend, {args.questions} questions a size)\n")
    print(
        "| passages | sentences | write s | disk KB/passage | model MB | replica RSS MB | index in memory "
        "KB/passage | of which mapped file pages | load+warm s | answer p50 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, b, s in rows:
        print(
            f"| {size:,} | {b['sentences']:,.0f} | {b['write_s']:.0f} | {b['disk'] / size / 1024:.2f} "
            f"| {s['model'] / MB:.0f} | {s['rss'] / MB:,.0f} | {s['rss_index'] / size / 1024:.2f} "
            f"| {s['mapped'] / size / 1024:.2f} | {s['load_s']:.1f} | {s['p50']:.1f} | {s['p99']:.1f} |"
        )
    sizes = " ".join(str(size) for size, _, _ in rows)
    print(
        f"\nreproduce: .venv/bin/python bench/scale.py --sizes {sizes} --questions {args.questions} "
        f"--backend {args.backend} --seed {args.seed}"
    )


if __name__ == "__main__":
    main()
