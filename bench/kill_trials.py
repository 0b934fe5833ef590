"""kill -9 while indexing: after each kill a reader serves a valid published version, and the next index repairs all.

The driver loads the real model once, then for each trial revises two passages of a copy of the
shipped knowledge and forks a child that runs what `policybot index` runs (`index_knowledge`, the
real FAISS and SQLite writes); the child is SIGKILLed at a random moment of its build, or kills
itself at a chosen point of the write, publish, log and prune steps. The child reports each step
it enters, so every kill is counted by the step it interrupted. After each kill:

- the version CURRENT names passes its checksums, and a reader (`IndexReloader`) ends on it;
- no folder that looks like a version fails its check (a kill never leaves a damaged version);
- the next index (run in the driver) succeeds and publishes this trial's revision, never a
  damaged version; `policybot index --verify` is clean; no temporary folder is left;
- at the end `policybot changes` lists every version that was published, and a real
  `policybot index` and `policybot index --verify` (fresh processes) exit 0.

    .venv/bin/python bench/kill_trials.py [--random 40] [--rounds 2] [--seed 1]

Exit 1 if any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.answerer import make_retriever  # noqa: E402
from bot.cli import main as policybot  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.reloader import IndexReloader  # noqa: E402
from bot.wiring import index_knowledge, load_embedder  # noqa: E402
from embeddings.index import build, versions  # noqa: E402
from embeddings.index.changes import read_changes  # noqa: E402
from embeddings.index.loaded import load_index  # noqa: E402
from embeddings.index.versions import check_version, current_version_name, is_damage, verify_versions  # noqa: E402

DOC = Path("united-states") / "key-policies.md"
# Chosen kill points: (step, where in it). A point a build does not reach (nothing to prune) lets it finish.
POINTS = [
    ("write", "start"),  # write_version entered, nothing written
    ("write", "files"),  # vectors and passages written in the temporary folder, no meta.json
    ("write", "renamed"),  # the version folder complete and renamed into versions/, not published
    ("publish", "start"),  # before CURRENT is replaced
    ("log", "start"),  # CURRENT names the new version, its change not logged
    ("log", "end"),  # logged, old versions not pruned
    ("prune", "mid"),  # an old version half deleted
    ("prune", "end"),  # pruned, replicas not yet told
]
STEPS = ["scan+embed", "write", "publish", "log", "prune", "done"]


def instrument(point: tuple[str, str] | None, report: Callable[[str], None]) -> None:
    """In the child: report each step entered to the driver, and SIGKILL this process at `point`."""

    def die_at(step: str, where: str) -> None:
        if point == (step, where):
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(module: Any, name: str, step: str | None, before: str | None, after: str | None) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if step is not None:
                report(step)
            if before:
                die_at(*before.split(":"))
            result = original(*args, **kwargs)
            if after:
                die_at(*after.split(":"))
            return result

        setattr(module, name, wrapper)

    wrap(build, "write_version", "write", "write:start", "write:renamed")
    wrap(versions, "write_passages", None, None, "write:files")
    wrap(build, "publish", "publish", "publish:start", None)
    wrap(versions, "log_change", "log", "log:start", "log:end")
    wrap(versions, "_prune", "prune", None, "prune:end")
    discard = versions.discard_version

    def half_discard(folder: Path, store: Any = None) -> None:
        if point == ("prune", "mid") and folder.name.endswith(versions.PRUNING):
            files = sorted(f for f in folder.iterdir() if f.is_file())
            if files:
                files[0].unlink()  # as a kill in the middle of rmtree leaves it
                os.kill(os.getpid(), signal.SIGKILL)
        discard(folder, store)

    versions.discard_version = half_discard


@dataclass
class Outcome:
    fate: str  # "killed" or "exit N"
    step: str  # the last step the child entered
    seconds: dict[str, float]  # when each step was entered, from the fork (and "end")


def run_child(
    settings: Settings, embedder: Any, point: tuple[str, str] | None, delay: float | None, after: str = "start"
) -> Outcome:
    """Fork a build; kill it `delay` s after it enters step `after` ("start": the fork), or it dies at `point`."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: one `policybot index`, as the CLI runs it
        os.close(read_end)
        code = 0
        try:
            instrument(point, lambda step: os.write(write_end, f"{step}\n".encode()))
            index_knowledge(settings, embedder)
            os.write(write_end, b"done\n")
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(write_end)
    seconds: dict[str, float] = {}
    steps = ["scan+embed"]
    kill_at = started + delay if delay is not None and after == "start" else None
    pending = b""
    while True:  # read the steps until the child is gone (end of file), killing it when due
        wait = None if kill_at is None else max(0.0, kill_at - time.monotonic())
        if not select.select([read_end], [], [], wait)[0]:
            os.kill(pid, signal.SIGKILL)
            kill_at = None
            continue
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            steps.append(line.decode())
            seconds[steps[-1]] = time.monotonic() - started
            if delay is not None and steps[-1] == after:
                kill_at = time.monotonic() + delay
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    seconds["end"] = time.monotonic() - started
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return Outcome("killed" if killed else f"exit {os.WEXITSTATUS(status)}", steps[-1], seconds)


def revisions(index_dir: Path) -> set[str]:
    """The revision numbers the published version's passages carry (one when nothing is mixed)."""
    loaded = load_index(index_dir)
    return set(re.findall(r"\(rev (\d+)\)", " ".join(p.text for p in loaded.passages.values())))


def verify_cli(config: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = policybot(["--config", str(config), "index", "--verify"])
    return status, out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=40, help="trials killed at a random moment of the build")
    parser.add_argument("--rounds", type=int, default=2, help="trials at each chosen kill point")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="policybot-kill-trials-"))
    knowledge, index = work / "knowledge", work / "index"
    shutil.copytree(ROOT / "knowledge", knowledge)
    config = work / "config.yaml"
    config.write_text(f"knowledge_dir: {knowledge}\nindex_dir: {index}\nhistory_file: {work / 'history'}\n")
    settings = load_settings(config)
    original = (knowledge / DOC).read_text(encoding="utf-8")

    def revise(n: int) -> None:
        text = original.replace("starkly acknowledges", f"starkly (rev {n}) acknowledges")
        (knowledge / DOC).write_text(
            text.replace("Expand the number", f"Expand (rev {n}) the number"), encoding="utf-8"
        )

    import torch

    torch.set_num_threads(1)  # one thread: no thread pool for the forked children to inherit half-held
    embedder = load_embedder(settings)
    revise(0)
    index_knowledge(settings, embedder)
    reader = IndexReloader(make_retriever(load_index(index), embedder, settings), settings)
    published = {current_version_name(index)}
    revise(1)
    whole = run_child(settings, embedder, None, None)  # one whole build, to aim the random kills
    assert whole.fate == "exit 0", whole.fate
    duration, tail = whole.seconds["end"], whole.seconds["done"] - whole.seconds["write"]
    published.add(current_version_name(index))

    # Half the random kills anywhere in the build (mostly reading and embedding), half from the
    # moment the version starts to be written (its write, publish, log and prune take milliseconds).
    plan: list[tuple[str, tuple[str, str] | None]] = [("random", None)] * (args.random - args.random // 2)
    plan += [("random after write", None)] * (args.random // 2)
    plan += [("chosen", p) for p in POINTS] * args.rounds
    rng.shuffle(plan)
    kills: Counter[str] = Counter()
    reached: Counter[str] = Counter()
    failures: list[str] = []
    damaged_left = leftovers = damaged_served = 0

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(f"trial {n} ({mode} {point or ''}, {fate} in {step}): {what}")

    for n, (mode, point) in enumerate(plan, start=2):
        revise(n)
        if mode == "random":
            outcome = run_child(settings, embedder, None, rng.uniform(0, duration))
        elif mode == "random after write":
            outcome = run_child(settings, embedder, None, rng.uniform(0, tail), after="write")
        else:
            outcome = run_child(settings, embedder, point, None)
        fate, step = outcome.fate, outcome.step
        label = f"{mode} {':'.join(point)}" if point else f"{mode} in {step}"
        if fate == "killed":
            kills[label] += 1
            reached[step] += 1
        else:
            kills[f"{mode}: finished first ({fate})"] += 1
        current = current_version_name(index)
        published.add(current)
        current_ok = current is not None and check_version(index / "versions" / str(current)) is None
        damaged_served += not current_ok
        check(current_ok, "CURRENT names a damaged version")
        reader.check(notify=False)
        check(reader.retriever.index.version == current, f"the reader serves {reader.retriever.index.version}")
        check(len(revisions(index)) == 1, f"passages of two revisions mixed: {revisions(index)}")
        damaged = [name for name, problem in verify_versions(index) if is_damage(problem)]
        damaged_left += len(damaged)
        check(not damaged, f"the kill left damaged versions {damaged}")
        leftovers += sum(d.name.startswith(".") for d in (index / "versions").iterdir())

        run = index_knowledge(settings, embedder)  # the next `policybot index`
        current = current_version_name(index)
        published.add(current)
        check(run.report.version == current, f"the next index did not publish ({run.report.summary()})")
        current_ok = check_version(index / "versions" / str(current)) is None
        damaged_served += not current_ok
        check(current_ok, "the next index published a damaged version")
        check(revisions(index) == {str(n)}, f"the next index serves revisions {revisions(index)}")
        status, out = verify_cli(config)
        check(status == 0, f"index --verify: {out.strip()}")
        reader.check(notify=False)
        check(reader.retriever.index.version == current, "the reader did not follow the next index")
        check(not any(d.name.startswith(".") for d in (index / "versions").iterdir()), "a temporary folder is left")

    listed = {entry["version"] for entry in read_changes(index, count=10_000)}
    missing = published - listed
    if missing:
        failures.append(f"policybot changes does not list {sorted(missing)}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    for command in (["index"], ["index", "--verify"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "--config", str(config), *command],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            failures.append(f"policybot {' '.join(command)} exit {result.returncode}: {result.stderr.strip()[-500:]}")
    damaged_dir = index / "damaged"
    set_aside = len(list(damaged_dir.iterdir())) if damaged_dir.is_dir() else 0

    trials = len(plan)
    killed = sum(v for k, v in kills.items() if "finished" not in k)
    chosen = f"{len(POINTS)} chosen points x {args.rounds}"
    moments = f"{duration:.2f} s build, half of them in its last {1000 * tail:.0f} ms from the write on"
    print(f"{trials} trials: {args.random} at random moments of a {moments}; {chosen}")
    print(f"killed: {killed}; finished before the kill: {trials - killed}")
    print("kills by step interrupted: " + ", ".join(f"{s} {reached[s]}" for s in STEPS if reached[s]))
    for label, count in sorted(kills.items()):
        print(f"  {label}: {count}")
    print(f"versions published: {len(published)}, all listed by `policybot changes`: {not missing}")
    print(f"damaged versions left by a kill: {damaged_left}; set aside under damaged/: {set_aside}")
    print(f"damaged versions named by CURRENT (served or reused), after a kill or the next index: {damaged_served}")
    print(f"temporary folders left by kills (removed by the next index): {leftovers}")
    print(f"failed checks: {len(failures)}")
    for failure in failures[:20]:
        print(f"  {failure}")
    print(f"{time.monotonic() - started:.0f} s in all")
    reproduce = f"--random {args.random} --rounds {args.rounds} --seed {args.seed}"
    print(f"reproduce: .venv/bin/python bench/kill_trials.py {reproduce}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
