"""What checking every file's checksum adds to loading an index version.

Reproduce with:  HF_HUB_OFFLINE=1 .venv/bin/python bench/index_load.py [--runs 7] [--passages 10000]
Builds two indexes with a deterministic embedder of the real model's dimension (384; load time
depends on the files' sizes, not on the vectors' values): the shipped knowledge, and a synthetic
corpus of `--passages` paragraphs of three sentences. Then times, median of `--runs`, the loader
without the check (`load_version` of an older format skips it: the same folder, meta.json
rewritten as format 3) and with it (format 4), and `check_version` alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.index.build import build_index  # noqa: E402
from embeddings.index.loaded import load_version  # noqa: E402
from embeddings.index.versions import check_version, current_version_dir  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings  # noqa: E402
from tests.conftest import FakeEmbedder  # noqa: E402


def median_ms(actions: list[Callable[[], object]], runs: int) -> list[float]:
    """Median milliseconds of each action, run in turn `runs` times (so load on the machine hits all alike)."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, took in zip(actions, times, strict=True):
            started = time.perf_counter()
            action()
            took.append((time.perf_counter() - started) * 1000)
    return [statistics.median(took) for took in times]


def synthetic(folder: Path, passages: int) -> Path:
    """`passages` paragraphs of three sentences, 100 to a document."""
    folder.mkdir()
    for d in range(passages // 100):
        paragraphs = [
            f"Policy {d}-{i} sets a tariff on item {i}. It starts in year {2000 + i % 30}. "
            f"Agency {d % 17} reviews it every {i % 5 + 1} years."
            for i in range(100)
        ]
        (folder / f"doc{d:04}.md").write_text(f"# Document {d}\n\n" + "\n\n".join(paragraphs) + "\n")
    return folder


def measure(name: str, knowledge: Path, work: Path, runs: int) -> None:
    index = work / f"index-{name}"
    build_index(knowledge, index, FakeEmbedder(dimension=384), SplitterSettings())
    version = current_version_dir(index)
    assert version is not None
    unchecked = work / f"unchecked-{name}"
    shutil.copytree(version, unchecked)
    raw = json.loads((unchecked / "meta.json").read_text())
    raw["format_version"] = 3
    (unchecked / "meta.json").write_text(json.dumps(raw))
    size = sum(p.stat().st_size for p in version.iterdir()) / 2**20
    passages = len(load_version(version).passages)
    without, with_check, check = median_ms(
        [
            lambda: load_version(unchecked, upgrading=True),
            lambda: load_version(version),
            lambda: check_version(version),
        ],
        runs,
    )
    print(
        f"{name}: {passages} passages, {size:.1f} MB; load without check {without:.1f} ms, "
        f"with check {with_check:.1f} ms; check_version alone {check:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--passages", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure("shipped", ROOT / "knowledge", work, args.runs)
        measure(f"{args.passages}", synthetic(work / "synthetic", args.passages), work, args.runs)


if __name__ == "__main__":
    main()
