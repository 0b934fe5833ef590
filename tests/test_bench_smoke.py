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


def test_txtai_comparison_reports_build_latency_and_quality_ratios() -> None:
    out = run("txtai_compare.py", "--docs", "0", "--rounds", "1", "--questions", "3")
    assert "| **ratio PolicyBot build_index / txtai index + save** |" in out
    assert "| txtai search |" in out and "p50 ratio vs txtai search" in out
    assert "| PolicyBot answer (hybrid) |" in out and "hit@1" in out
    assert "reproduce: .venv/bin/python bench/txtai_compare.py --docs 0 --rounds 1 --questions 3" in out


def test_report_has_the_machine_and_each_bench_under_its_command(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    printed = run("report.py", "--only", "throughput", "--quick", "--out", str(out))
    assert f"report: {out}" in printed
    report = out.read_text(encoding="utf-8")
    assert "## Machine" in report and "| CPUs |" in report and "| torch |" in report
    assert "| throughput.py | ok |" in report
    assert "## throughput.py\n\n`.venv/bin/python bench/throughput.py --docs 2 --rounds 1`" in report
    assert "pipeline / raw:" in report
