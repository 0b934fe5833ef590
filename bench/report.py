"""Run the benchmark suite and write one Markdown report: the machine, then each bench's output.

Reproduce with:  .venv/bin/python bench/report.py [--quick] [--only NAME ...] [--out var/bench-report.md]
Each bench runs as its own process, one after another, with its exact command above its output.
`--quick` uses tiny sizes (a few minutes in all; a check that everything runs, not figures to
quote); the default runs the full figures (an hour or more: SciFact and 1M vectors). A failing
bench is reported with its error and the rest still run; the exit status is 1 if any failed.
Benches whose script is missing (not merged yet) or whose data is absent are listed as skipped.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact" / "scifact.zip"
PACKAGES = ("torch", "sentence-transformers", "transformers", "faiss-cpu", "numpy", "bm25s", "txtai", "onnxruntime")


@dataclass(frozen=True)
class Bench:
    """A bench script and its arguments: `full` for the figures, `quick` for a short run (None = skip)."""

    script: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] | None = ()
    needs: Path | None = None  # data the bench reads; skipped when absent

    @property
    def name(self) -> str:
        return self.script.removesuffix(".py")


SUITE = (
    Bench("latency.py", quick=("--rounds", "1")),
    Bench("followup.py", quick=("--rounds", "1", "--conversations", "3")),
    Bench("cold_start.py", quick=("--runs", "1")),
    Bench("throughput.py", quick=("--docs", "2", "--rounds", "1")),
    Bench("onnx_backends.py", quick=("--rounds", "1", "--limit", "20")),
    Bench("reembed.py", quick=("--docs", "5")),
    Bench("vector_search.py", quick=("--quick",)),
    Bench(
        "txtai_compare.py",
        full=("--backends", "torch", "onnx-int8"),
        quick=("--docs", "3", "--rounds", "1", "--questions", "10", "--backends", "torch", "onnx-int8"),
    ),
    Bench("milvus_compare.py", quick=("--n", "10000", "--queries", "50")),
    Bench("capacity.py", quick=("--docs", "5", "--questions", "20")),
    Bench("slack_latency.py", quick=("--rounds", "1", "--concurrent", "5")),
    Bench("slack_load.py", quick=("--requests", "60", "--concurrency", "10", "--rounds", "1")),
    Bench("slack_acks.py", quick=("--events", "5", "--commands", "5", "--clicks", "5", "--slow", "0.1")),
    Bench("scifact.py", quick=None, needs=SCIFACT),  # 5,183 abstracts: no quick size
)


@dataclass
class Outcome:
    bench: Bench
    command: str = ""
    status: str = "ok"  # "ok", "failed" or "skipped"
    seconds: float = 0.0
    output: str = ""
    note: str = ""  # one line: why it was skipped or failed
    detail: str = ""  # the end of a failed bench's stderr


def arguments(bench: Bench, quick: bool) -> tuple[str, ...] | None:
    """The bench's arguments; a script that has its own `--quick` gets that in a quick run."""
    if not quick:
        return bench.full
    source = (BENCH / bench.script).read_text(encoding="utf-8")
    if '"--quick"' in source:
        return ("--quick",)
    return bench.quick


def run_bench(bench: Bench, quick: bool, timeout: float | None) -> Outcome:
    outcome = Outcome(bench)
    if not (BENCH / bench.script).is_file():
        outcome.status, outcome.note = "skipped", f"bench/{bench.script} is not in this checkout"
        return outcome
    if bench.needs is not None and not bench.needs.exists():
        outcome.status, outcome.note = "skipped", f"its data is not at {bench.needs}"
        return outcome
    args = arguments(bench, quick)
    if args is None:
        outcome.status, outcome.note = "skipped", "no quick size; run the report without --quick"
        return outcome
    outcome.command = " ".join([".venv/bin/python", f"bench/{bench.script}", *args])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / bench.script), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a timeout also stops what it started
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        outcome.status, outcome.note = "failed", f"timed out after {timeout:.0f} s"
        outcome.output, outcome.detail = stdout, _tail(stderr)
    else:
        outcome.output = stdout
        if process.returncode != 0:
            outcome.detail = _tail(stderr)
            last = next((line for line in reversed(outcome.detail.splitlines()) if line.strip()), "")
            outcome.status, outcome.note = "failed", f"exit status {process.returncode}: {last.strip()}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def _tail(text: str, lines: int = 30) -> str:
    kept = [line for line in text.splitlines() if "Loading weights" not in line]  # model-load progress bars
    return "\n".join(kept[-lines:])


def machine() -> list[tuple[str, str]]:
    """What the figures depend on: CPU, memory, load, versions, date and commit."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    load = " ".join(_read("/proc/loadavg").split()[:3]) or "unknown"
    rows = [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("git commit", _git_commit()),
        ("CPU", model.group(1).strip() if model else platform.processor() or "unknown"),
        ("CPUs", str(os.cpu_count())),
        ("RAM", f"{int(mem.group(1)) / 1024**2:.1f} GB" if mem else "unknown"),
        ("load average at start (1, 5, 15 min)", load),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
    ]
    for package in PACKAGES:
        try:
            rows.append((package, version(package)))
        except PackageNotFoundError:
            rows.append((package, "not installed"))
    return rows


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" (with uncommitted changes)" if dirty.strip() else "")


def as_markdown(output: str) -> str:
    """A bench's output in the report: Markdown stays Markdown (its headings moved two levels
    down, under the bench's own), plain text goes in a text block."""
    output = "\n".join(_tail(output, 10_000).splitlines()).strip()
    if not output:
        return "_(no output)_"
    if any(line.startswith(("|", "#")) for line in output.splitlines()):
        return re.sub(r"^(#+) ", lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", output, flags=re.MULTILINE)
    return f"```text\n{output}\n```"


def render(outcomes: list[Outcome], command: str, quick: bool) -> str:
    lines = [
        "# PolicyBot benchmark report",
        "",
        f"Made by `{command}`"
        + (" (quick: tiny sizes, to check that everything runs; not figures to quote)." if quick else "."),
        "Every bench ran once, one after another on this machine; its exact command is above its output.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in machine()),
        "",
        "## Summary",
        "",
        "| bench | status | seconds |",
        "| --- | --- | ---: |",
    ]
    for o in outcomes:
        seconds = f"{o.seconds:.0f}" if o.status != "skipped" else ""
        why = f" ({o.note})" if o.note else ""
        lines.append(f"| {o.bench.script} | {o.status}{why} | {seconds} |")
    for o in outcomes:
        lines += ["", f"## {o.bench.script}", ""]
        if o.status == "skipped":
            lines.append(f"Skipped: {o.note}.")
            continue
        lines += [f"`{o.command}`", ""]
        if o.status == "failed":
            lines += [f"**Failed** after {o.seconds:.0f} s: {o.note}", ""]
            if o.detail.strip():
                lines += ["```text", o.detail.strip(), "```", ""]
        lines.append(as_markdown(o.output))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a few minutes in all")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these benches (e.g. latency txtai_compare)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-report.md", help="where the report goes")
    parser.add_argument("--timeout", type=float, default=0, help="seconds before a bench counts as failed (0 = none)")
    args = parser.parse_args()
    names = {b.name for b in SUITE}
    wanted = [n.removesuffix(".py") for n in args.only or []]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    suite = [b for b in SUITE if not wanted or b.name in wanted]
    outcomes = []
    for bench in suite:
        print(f"{bench.script} ...", end=" ", file=sys.stderr, flush=True)
        outcome = run_bench(bench, args.quick, args.timeout or None)
        print(f"{outcome.status} ({outcome.seconds:.0f} s)", file=sys.stderr, flush=True)
        outcomes.append(outcome)
    command = " ".join([".venv/bin/python", "bench/report.py", *sys.argv[1:]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(outcomes, command, args.quick), encoding="utf-8")
    failed = [o.bench.script for o in outcomes if o.status == "failed"]
    print(f"report: {args.out}" + (f" ({len(failed)} failed: {', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
