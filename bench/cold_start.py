"""Cold start: `policybot ask "question"` from process start to answer, per embedding backend.

Reproduce with:  .venv/bin/python bench/cold_start.py [--runs 5]
Builds the shipped knowledge into a temporary index per backend (torch and onnx share vectors,
onnx-int8 has its own), then for each backend starts fresh processes in turn: `policybot ask`
itself (wall time), and a probe doing the same steps with a clock between them (imports of the
front end and of the backend's runtime, model load, index load, answer); "interpreter" is the
probe's wall time minus its steps. The ONNX export is made once beforehand, as on a machine where
the bot has run before.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "What pillars do the AMP recommendations rest on?"
STEPS = ("imports", "model load", "index load", "answer")


def probe(config: Path) -> None:
    """Run in a fresh process: the steps of `policybot ask`, each timed; prints JSON."""
    clock = {"start": time.perf_counter()}
    from bot.answering.answerer import Answerer, make_retriever
    from bot.config import load_settings
    from bot.render.terminal import render_text
    from bot.wiring import load_embedder
    from embeddings.index.loaded import load_index

    settings = load_settings(config)
    if settings.backend == "torch":
        import sentence_transformers  # noqa: F401  (imported by the model load otherwise)
    else:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    clock["imports"] = time.perf_counter()
    embedder = load_embedder(settings)
    clock["model load"] = time.perf_counter()
    index = load_index(settings.index_dir)
    clock["index load"] = time.perf_counter()
    render_text(
        Answerer(make_retriever(index, embedder, settings), settings.answer, settings.retrieval.top_k).ask(QUESTION)
    )
    clock["answer"] = time.perf_counter()
    names = ["start", *STEPS]
    print(
        json.dumps({b: clock[b] - clock[a] for a, b in itertools.pairwise(names)} | {"torch": "torch" in sys.modules})
    )


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per backend (median reported)")
    parser.add_argument("--backends", default="torch,onnx,onnx-int8", help="comma-separated")
    parser.add_argument("--onnx-cache", type=Path, default=None, help="ONNX export cache (default: a temporary one)")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe)
        return
    backends = args.backends.split(",")
    wall: dict[str, list[float]] = {b: [] for b in backends}
    steps: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    with tempfile.TemporaryDirectory() as tmp:
        cache = (args.onnx_cache or Path(tmp) / "onnx").resolve()
        configs = {}
        for b in backends:
            index = Path(tmp) / ("index-int8" if b == "onnx-int8" else "index")
            configs[b] = Path(tmp) / f"config-{b}.yaml"
            configs[b].write_text(
                f"knowledge_dir: {ROOT / 'knowledge'}\nindex_dir: {index}\nbackend: {b}\nonnx_cache: {cache}\n"
                "indexing:\n  gate_eval_set: null\n"
            )
            if not index.is_dir():  # also makes the ONNX export, once
                subprocess.run(
                    [sys.executable, "-m", "bot.cli", "--config", str(configs[b]), "index"],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
        for _ in range(args.runs):
            for b in backends:
                seconds, _ = timed([sys.executable, "-m", "bot.cli", "--config", str(configs[b]), "ask", QUESTION])
                wall[b].append(seconds)
                seconds, out = timed([sys.executable, str(Path(__file__).resolve()), "--probe", str(configs[b])])
                figures = json.loads(out)
                figures["interpreter"] = seconds - sum(figures[s] for s in STEPS)
                steps[b].append(figures)

    print(f"cold `policybot ask`, {args.runs} fresh processes per backend (medians, seconds)\n")
    print("| backend | wall | interpreter | imports | model load | index load | answer | torch imported |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for b in backends:
        med = {s: statistics.median(f[s] for f in steps[b]) for s in ("interpreter", *STEPS)}
        cells = " | ".join(f"{med[s]:.2f}" for s in ("interpreter", *STEPS))
        torch = "yes" if any(f["torch"] for f in steps[b]) else "no"
        print(f"| {b} | {statistics.median(wall[b]):.2f} | {cells} | {torch} |")
    base = statistics.median(wall[backends[0]])
    for b in backends[1:]:
        print(f"\n{b}: {base / statistics.median(wall[b]):.1f}x faster start than {backends[0]}", end="")
    print(f"\n\nreproduce: .venv/bin/python bench/cold_start.py --runs {args.runs} --backends {args.backends}")


if __name__ == "__main__":
    main()
