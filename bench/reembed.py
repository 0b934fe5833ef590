"""Incremental re-embedding at scale: edit one document of a 10,000+ passage corpus.

Reproduce with:  .venv/bin/python bench/reembed.py [--docs 650] [--seed 7]
Generates a corpus reproducibly from the shipped policy page (sentences recombined with
varied countries, years and figures), builds the index from scratch, edits one paragraph of
one document, and re-indexes. The model is loaded once, before timing; no evaluation gate.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.ingest.documents import read_document  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings, split_document  # noqa: E402

COUNTRIES = [
    "Germany",
    "Japan",
    "Korea",
    "France",
    "Canada",
    "Brazil",
    "India",
    "Sweden",
    "Spain",
    "Italy",
    "Mexico",
    "Chile",
    "Norway",
    "Finland",
    "Austria",
    "Poland",
    "Ireland",
    "Denmark",
    "Singapore",
    "Kenya",
]
AGENCIES = [
    "the Ministry of Industry",
    "the Innovation Agency",
    "the Council for Science",
    "the Treasury",
    "the Export Board",
    "the Skills Council",
    "the Research Foundation",
    "the Energy Office",
]
TOPICS = [
    "National Policy",
    "Programmes",
    "Institutions",
    "Skills and Training",
    "Research Funding",
    "Energy and Climate",
    "Regional Development",
    "Small Firms",
    "Standards",
    "Trade",
]


def seed_sentences() -> list[str]:
    doc = read_document(ROOT / "knowledge" / "united-states" / "key-policies.md", ROOT / "knowledge")
    return [s for p in split_document(doc, SplitterSettings()) for s in p.sentence_texts()]


def vary(sentence: str, rng: random.Random, country: str) -> str:
    """A plausible variant: other country, years, numbers, agencies."""
    text = sentence.replace("U.S.", country).replace("United States", country).replace("American", country)
    text = re.sub(r"\b(19|20)\d\d\b", lambda _: str(rng.randint(1995, 2025)), text)
    text = re.sub(r"\b(two|three|five|sixteen)\b", lambda _: rng.choice(["two", "four", "six", "twelve"]), text)
    text = text.replace("President Obama", rng.choice(AGENCIES)).replace("Federal", rng.choice(["national", "state"]))
    tail = rng.choice(["It applies", "In practice this applies", "Officials reviewed this"])
    return f"{text} {tail} in {rng.randint(1, 99)} regions."


def write_corpus(folder: Path, docs: int, seed: int) -> None:
    pool = seed_sentences()
    for i in range(docs):
        rng = random.Random(seed * 100_003 + i)
        country = COUNTRIES[i % len(COUNTRIES)]
        lines = [f'---\ntitle: "Policy brief {i}: {country}"\ncountry: {country}\n---\n', f"# Policy brief {i}\n"]
        for topic in rng.sample(TOPICS, 4):
            lines.append(f"## {topic}\n")
            for _ in range(rng.randint(3, 5)):
                lines.append(" ".join(vary(s, rng, country) for s in rng.sample(pool, 2)) + "\n")
        (folder / f"brief-{i:04d}.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=650, help="documents to generate (about 16 passages each)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    splitter = SplitterSettings()
    with tempfile.TemporaryDirectory() as tmp:
        knowledge, index = Path(tmp) / "knowledge", Path(tmp) / "index"
        knowledge.mkdir()
        write_corpus(knowledge, args.docs, args.seed)
        started = time.perf_counter()
        full = build_index(knowledge, index, embedder, splitter)
        full_s = time.perf_counter() - started

        target = knowledge / f"brief-{min(42, args.docs - 1):04d}.md"
        lines = target.read_text(encoding="utf-8").split("\n")
        paragraph = next(
            i for i, line in enumerate(lines) if line and not line.startswith(("#", "-", "title", "country"))
        )
        lines[paragraph] += " This sentence was added by an analyst."
        target.write_text("\n".join(lines), encoding="utf-8")
        started = time.perf_counter()
        incremental = build_index(knowledge, index, embedder, splitter)
        incremental_s = time.perf_counter() - started

    print(f"corpus: {args.docs} documents, {full.passages} passages")
    print(f"full build:        {full_s:7.1f} s, {full.embedded_texts} texts embedded ({full.added} passages)")
    print(
        f"edit one document: {incremental_s:7.1f} s, {incremental.embedded_texts} texts embedded "
        f"({incremental.changed} changed, {incremental.added} added, {incremental.removed} removed, "
        f"{incremental.unchanged} unchanged)"
    )
    print(f"speed-up: {full_s / incremental_s:.0f}x (target 20x)")
    print(f"reproduce: .venv/bin/python bench/reembed.py --docs {args.docs} --seed {args.seed}")


if __name__ == "__main__":
    main()
