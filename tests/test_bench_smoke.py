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


def test_followup_bench_reports_what_reading_a_follow_up_adds() -> None:
    out = run("followup.py", "--rounds", "1", "--conversations", "2")
    assert "| reading the follow-up (rules only) |" in out and "| added by reading (paired difference) |" in out
    assert "reproduce: .venv/bin/python bench/followup.py --rounds 1 --conversations 2" in out


def test_throughput_bench_compares_pipeline_and_raw_encode() -> None:
    out = run("throughput.py", "--docs", "2", "--rounds", "1")
    # the default build runtime's own encoder is the baseline: OpenVINO's, installed by default
    assert "raw OpenVinoEncoder.encode:" in out and "pipeline / raw:" in out


def test_onnx_bench_compares_backends_on_speed_agreement_and_hit_at_1(onnx_cache: Path) -> None:
    out = run("onnx_backends.py", "--limit", "6", "--rounds", "1", "--onnx-cache", str(onnx_cache))
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"torch", "onnx", "onnx-int8", "int8 queries / torch index"} <= rows.keys()
    assert "| 1.0000 / 1.0000 |" in rows["onnx"]  # fp32 ONNX gives torch's vectors
    assert "reproduce: .venv/bin/python bench/onnx_backends.py --rounds 1 --limit 6" in out


def test_cold_start_bench_times_each_step_without_torch_for_onnx(onnx_cache: Path) -> None:
    out = run("cold_start.py", "--runs", "1", "--backends", "onnx", "--onnx-cache", str(onnx_cache))
    row = next(line for line in out.splitlines() if line.startswith("| onnx |"))
    assert row.endswith("| no |")  # the ONNX backend answers without importing torch
    assert "reproduce: .venv/bin/python bench/cold_start.py --runs 1 --backends onnx" in out


def test_vector_search_bench_prints_markdown_tables_and_the_growth_of_what_auto_builds() -> None:
    args = ["--sizes", "600", "--real", "100", "--queries", "3", "--hnsw-max", "600", "--exact-up-to", "300"]
    out = run("vector_search.py", *args)
    assert "| passages | vectors | index | auto |" in out and "### Growth" in out
    assert "| 600 | synthetic | IVF (nlist=15) | **auto** |" in out  # above exact-up-to: approximate
    assert "| 100 | real (" in out and "HNSW" in out
    assert "reproduce: `.venv/bin/python bench/vector_search.py --sizes 600 --real 100" in out


def test_capacity_bench_reports_build_rate_memory_and_questions_per_second() -> None:
    out = run("capacity.py", "--docs", "3", "--questions", "4")
    rows = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")}
    assert {"index build rate", "passages per GB of memory (index only)", "questions per second, two threads"} <= rows
    assert "reproduce: .venv/bin/python bench/capacity.py --docs 3 --questions 4" in out


def test_txtai_comparison_reports_build_latency_and_quality_ratios_per_backend() -> None:
    out = run(
        "txtai_compare.py", "--docs", "0", "--rounds", "1", "--questions", "3", "--backends", "torch", "onnx-int8"
    )
    for backend in ("torch", "onnx-int8"):
        assert f"| **ratio PolicyBot build_index [{backend}] / txtai index + save** |" in out
        assert f"| PolicyBot answer (hybrid) [{backend}] |" in out
        assert f"| **ratio PolicyBot answer (hybrid) [{backend}] / txtai search** |" in out
    assert "| txtai search |" in out and "p50 ratio vs txtai search" in out and "hit@1" in out
    reproduce = "reproduce: .venv/bin/python bench/txtai_compare.py --docs 0 --rounds 1 --questions 3"
    assert f"{reproduce} --backends torch onnx-int8" in out


SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact" / "scifact.zip"


@pytest.mark.skipif(not SCIFACT.is_file(), reason=f"SciFact is not at {SCIFACT}")
def test_txtai_comparison_also_runs_on_real_scifact_abstracts() -> None:
    out = run("txtai_compare.py", "--docs", "0", "--rounds", "1", "--questions", "2", "--scifact", "5")
    section = out.split("### first 5 SciFact abstracts (../shared):")[1]
    assert "| **ratio PolicyBot build_index [torch] / txtai index + save** |" in section.split("### ")[0]
    assert "--scifact 5" in out


def test_report_has_the_machine_and_each_bench_under_its_command(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    printed = run("report.py", "--only", "throughput", "--quick", "--out", str(out))
    assert f"report: {out}" in printed
    report = out.read_text(encoding="utf-8")
    assert "## Machine" in report and "| CPUs |" in report and "| torch |" in report
    assert "| throughput.py | ok |" in report
    assert "## throughput.py\n\n`.venv/bin/python bench/throughput.py --docs 2 --rounds 1`" in report
    assert "pipeline / raw:" in report


def test_milvus_compare_bench_prints_faiss_and_milvus_lite_with_recall() -> None:
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install '.[milvus]')")
    out = run("milvus_compare.py", "--n", "2000", "--queries", "5")
    assert "| store | build s | p50 ms | p99 ms | p50 vs FAISS auto | recall@10 |" in out
    assert "| FAISS flat (auto) |" in out and "| Milvus Lite AUTOINDEX |" in out
    assert "reproduce: `.venv/bin/python bench/milvus_compare.py --n 2000 --queries 5 --milvus-index AUTOINDEX`" in out


def test_durable_votes_bench_kills_the_bot_and_loses_no_acknowledged_vote() -> None:
    out = run("durable_votes.py", "--votes", "12", "--rate", "12", "--uptime", "0.3", "0.6")
    assert "lost: 0" in out and " kill -9s," in out
    assert "reproduce: .venv/bin/python bench/durable_votes.py --votes 12 --rate 12" in out


def test_kill_trials_bench_counts_kills_by_step_and_finds_nothing_damaged() -> None:
    out = run("kill_trials.py", "--random", "2", "--rounds", "1")
    assert "10 trials: 2 at random moments" in out and "kills by step interrupted:" in out
    assert "failed checks: 0" in out and "chosen prune:mid: 1" in out
    assert "reproduce: .venv/bin/python bench/kill_trials.py --random 2 --rounds 1 --seed 1" in out


SQUAD = ROOT.parent / "shared" / "datasets" / "squad2" / "dev-8-articles.json"
needs_squad = pytest.mark.skipif(not SQUAD.is_file(), reason=f"SQuAD 2.0 is not at {SQUAD}")


@needs_squad
def test_fitting_the_scores_reports_every_held_out_group_and_a_threshold(tmp_path: Path) -> None:
    out = run("fit_scores.py", "--articles", "2", "--work", str(tmp_path))
    rows = [line for line in out.splitlines() if line.startswith("| ") and "held-out" not in line]
    assert {"Normans", "Computational_complexity_theory", "policy", "policy-extra"} <= {
        r.split("|")[1].strip() for r in rows
    }
    assert "threshold with at most 5% of answerable SQuAD questions abstaining:" in out
    assert "wrote" not in out  # without --write the shipped scores are left alone


@needs_squad
def test_the_squad_bench_scores_each_article_with_scores_fitted_without_it(tmp_path: Path) -> None:
    out = run("squad.py", "--articles", "2", "--work", str(tmp_path))
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"all", "Normans", "Computational_complexity_theory", "BM25", "MiniLM", "sum"} <= rows.keys()
    assert "reproduce: .venv/bin/python bench/squad.py" in out
