"""The benchmarks still run (on tiny inputs), so they cannot rot between measurements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_reembed_bench_reports_a_speed_up() -> None:
    out = run("reembed.py", "--docs", "3")
    assert "edit one document:" in out and "speed-up:" in out
    assert "1 changed, 0 added, 0 removed" in out
    assert "reproduce: .venv/bin/python bench/reembed.py --docs 3" in out


def test_throughput_bench_compares_pipeline_and_raw_encode() -> None:
    out = run("throughput.py", "--docs", "2", "--rounds", "1")
    assert "raw SentenceTransformer.encode:" in out and "pipeline / raw:" in out


def test_vector_search_bench_prints_markdown_tables_and_the_growth_of_what_auto_builds() -> None:
    args = ["--sizes", "600", "--real", "100", "--queries", "3", "--hnsw-max", "600", "--exact-up-to", "300"]
    out = run("vector_search.py", *args)
    assert "| passages | vectors | index | auto |" in out and "### Growth" in out
    assert "| 600 | synthetic | IVF (nlist=15) | **auto** |" in out  # above exact-up-to: approximate
    assert "| 100 | real (" in out and "HNSW" in out
    assert "reproduce: `.venv/bin/python bench/vector_search.py --sizes 600 --real 100" in out
