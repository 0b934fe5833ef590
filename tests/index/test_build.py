"""Re-indexing while the bot runs: only changes are embedded, publication is atomic, the bot follows."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.answering.gate import EvaluationGate
from bot.config import Settings
from bot.reloader import IndexReloader
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.errors import IndexLocked
from embeddings.index.build import build_index
from embeddings.index.changes import format_changes, read_changes
from embeddings.index.loaded import load_index
from embeddings.index.lock import index_lock
from embeddings.index.versions import current_version_name
from embeddings.index.watch import watch_and_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import EVAL_SET, ROOT, FakeEmbedder

SPLIT = SplitterSettings()
US_DOC = Path("united-states") / "key-policies.md"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def settings_for(base: Settings, knowledge: Path, index: Path) -> Settings:
    return base.model_copy(update={"knowledge_dir": knowledge, "index_dir": index})


def test_dry_run_reports_changes_and_writes_nothing(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    before = current_version_name(index)
    edit(knowledge_copy / US_DOC, "starkly acknowledges", "plainly acknowledges")
    embedder = FakeEmbedder()
    report = build_index(knowledge_copy, index, embedder, SPLIT, dry_run=True)
    assert (report.changed, report.unchanged) == (1, 8)
    assert "would add 0, change 1" in report.summary()
    assert report.changes["documents"]["edited"] == [US_DOC.as_posix()]
    assert embedder.embedded == []
    assert current_version_name(index) == before


def test_a_second_index_run_is_refused_and_told_who_holds_the_lock(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    with index_lock(index), pytest.raises(IndexLocked, match=rf"pid {os.getpid()} on .* since"):
        build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)  # released: the next run goes through
    assert current_version_name(index)


def test_each_publication_records_a_change_digest(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    edit(knowledge_copy / US_DOC, "## National Policy", "## National Policy\n\n### Overview\n\nA new overview.")
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    latest, first = read_changes(index, 2)
    assert latest["documents"]["added"] == ["note.txt"]
    assert latest["documents"]["edited"] == [US_DOC.as_posix()]
    assert f"{US_DOC.as_posix()}: National Policy > Overview" in latest["sections"]["added"]
    assert latest["previous"] == first["version"]
    text = format_changes(latest)
    assert "documents added: note.txt" in text and "sections added:" in text


def test_a_document_that_becomes_unreadable_drops_out_and_is_reported(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    (knowledge_copy / "note.md").write_text("# Tariffs\n\nA note about tariffs on steel.")
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    (knowledge_copy / "note.md").write_bytes(b"\xff\xfe\x00broken")
    report = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    assert [p.path for p in report.problems] == ["note.md"]
    assert report.removed == 1 and report.unchanged == 9
    assert all(p.doc != "note.md" for p in load_index(index).passages.values())


@pytest.mark.slow
def test_the_running_bot_answers_from_the_new_text_without_a_restart(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    settings = settings_for(shipped_settings, knowledge_copy, tmp_path / "index")
    build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    answerer = build_answerer(settings, embedder=embedder)
    switches: list[tuple[str, str]] = []
    reloader = IndexReloader(
        answerer.retriever, settings, on_switch=lambda old, new, digest: switches.append((old, new, digest))
    )
    question = "How many recommendations did the AMP steering committee make?"
    before = answerer.ask(question)
    assert "sixteen recommendations" in before.text

    edit(knowledge_copy / US_DOC, "contains sixteen recommendations", "contains seventeen recommendations")
    build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    assert reloader.check()
    after = answerer.ask(question)
    assert "seventeen recommendations" in after.text
    assert after.index_version != before.index_version
    [(old, new, digest)] = switches
    assert (old, new) == (before.index_version, after.index_version)
    assert f"sections edited: {US_DOC.as_posix()}: National Policy > Capturing Domestic" in digest


@pytest.mark.slow
def test_a_deleted_document_disappears_from_answers(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    note = knowledge_copy / "tariffs.md"
    note.write_text(
        "---\ntitle: Steel tariffs\ncountry: United States\n---\n\n# Steel tariffs\n\n"
        "Section 232 tariffs of 25 percent apply to imported steel.\n"
    )
    settings = settings_for(shipped_settings, knowledge_copy, tmp_path / "index")
    build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    answerer = build_answerer(settings, embedder=embedder)
    reloader = IndexReloader(answerer.retriever, settings)
    question = "What tariff applies to imported steel?"
    assert answerer.ask(question).citations[0].passage.doc == "tariffs.md"

    note.unlink()
    build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    assert reloader.check()
    answer = answerer.ask(question)
    assert all(c.passage.doc != "tariffs.md" for c in answer.citations)


def test_a_damaged_new_version_is_refused_and_the_old_one_keeps_serving(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = FakeEmbedder()
    settings = settings_for(shipped_settings, knowledge_copy, tmp_path / "index").model_copy(
        update={"model": "fake-hash"}
    )
    build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    answerer = build_answerer(settings, embedder=embedder)
    old_version = answerer.retriever.index.version
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    report = build_index(knowledge_copy, settings.index_dir, embedder, SPLIT)
    (settings.index_dir / "versions" / report.version / "vectors.faiss").write_bytes(b"truncated")
    reloader = IndexReloader(answerer.retriever, settings)
    with caplog.at_level(logging.ERROR):
        assert not reloader.check()
    assert "vectors.faiss: the index file is damaged" in caplog.text
    assert "policybot index --full" in caplog.text
    assert answerer.retriever.index.version == old_version
    assert answerer.ask("What did PCAST recommend in 2011?").index_version == old_version


@pytest.mark.slow
def test_the_gate_keeps_a_worse_version_aside_unless_forced(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    settings = settings_for(shipped_settings, knowledge_copy, tmp_path / "index").model_copy(
        update={"indexing": shipped_settings.indexing.model_copy(update={"gate_eval_set": EVAL_SET})}
    )
    gate = EvaluationGate.from_settings(settings, embedder)
    assert gate is not None
    first = build_index(knowledge_copy, settings.index_dir, embedder, SPLIT, gate=gate)
    assert first.published
    doc = knowledge_copy / US_DOC
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.split("### Capturing Domestic")[0], encoding="utf-8")  # drop half the page

    report = build_index(knowledge_copy, settings.index_dir, embedder, SPLIT, gate=gate)
    assert not report.published and report.kept_aside is not None
    assert "FAILED" in report.gate_report
    assert "worse: What pillars do the AMP recommendations rest on?" in report.gate_report
    assert current_version_name(settings.index_dir) == first.version
    assert (report.kept_aside / "meta.json").is_file()

    forced = build_index(knowledge_copy, settings.index_dir, embedder, SPLIT, gate=gate, force=True)
    assert forced.published and current_version_name(settings.index_dir) == forced.version


KILL_TARGET = """
import os, sys, time
from pathlib import Path
from embeddings import atomic
from embeddings.index import versions
from embeddings.index.build import build_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

# Stretch each phase (embedding, writing rows, every fsync) so random kills land inside them.
class SlowEmbedder(FakeEmbedder):
    def embed(self, texts, progress=None):
        time.sleep(0.003 * len(texts))
        return super().embed(texts, progress)

write_passages, fsync_path = versions.write_passages, atomic.fsync_path
def slow_rows(path, rows):
    def each():
        for row in rows:
            time.sleep(0.01)
            yield row
    write_passages(path, each())
def slow_fsync(path):
    time.sleep(0.01)
    fsync_path(path)
versions.write_passages, versions.fsync_path, atomic.fsync_path = slow_rows, slow_fsync, slow_fsync
print("ready", flush=True)
# One build per input line, each in a forked child (imports are paid once); report its pid and fate.
for line in sys.stdin:
    knowledge, index = line.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid == 0:
        build_index(Path(knowledge), Path(index), SlowEmbedder(), SplitterSettings())
        os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print("killed" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
"""


class Builder:
    """A child process that forks one index build per request, so each build can be SIGKILLed."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", KILL_TARGET],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def build(self, knowledge: Path, index: Path, kill_after: float | None) -> tuple[str, float]:
        """Start a build; SIGKILL it after `kill_after` seconds. Returns its fate and how long it ran."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{knowledge}\t{index}\n")
        self.proc.stdin.flush()
        pid = int(self.read())
        started = time.perf_counter()
        if kill_after is not None:
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # it may have finished first
                os.kill(pid, signal.SIGKILL)
        fate = self.read()
        return fate, time.perf_counter() - started

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def test_sigkill_while_indexing_never_leaves_a_broken_or_mixed_index(knowledge_copy: Path, tmp_path: Path) -> None:
    """20 builds, each of a new revision touching two passages, killed at random moments."""
    index = tmp_path / "index"
    doc = knowledge_copy / US_DOC
    original = doc.read_text(encoding="utf-8")

    def revise(n: int) -> None:
        text = original.replace("starkly acknowledges", f"starkly (rev {n}) acknowledges")
        doc.write_text(text.replace("Expand the number", f"Expand (rev {n}) the number"), encoding="utf-8")

    def published_revisions() -> list[str]:
        loaded = load_index(index)  # must load after every kill
        assert json.loads((loaded.path / "meta.json").read_text())["passages"] == len(loaded.passages)
        return re.findall(r"\(rev (\d+)\)", " ".join(p.text for p in loaded.passages.values()))

    revise(0)
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    builder = Builder()
    try:
        revise(1)
        fate, duration = builder.build(knowledge_copy, index, None)  # a whole build, to aim the kills
        assert fate == "exit 0"
        rng = random.Random(20261126)
        killed = 0
        for n in range(2, 22):
            revise(n)
            fate, _ = builder.build(knowledge_copy, index, rng.uniform(0, duration))
            killed += fate == "killed"
            revisions = published_revisions()
            assert len(revisions) == 2 and revisions[0] == revisions[1], f"passages of two versions mixed: {revisions}"
            assert revisions[0] == (str(n) if fate == "exit 0" else revisions[0])
    finally:
        builder.close()
    assert killed >= 10, "most builds must really be interrupted"
    final = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)  # the next run completes the update
    assert published_revisions() == ["21", "21"]
    assert final.version == current_version_name(index)


def test_watch_mode_reindexes_after_an_edit_and_keeps_going_after_a_bad_one(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    runs: list[str] = []
    stop = threading.Event()

    def reindex() -> None:
        runs.append(build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version)

    errors: list[str] = []
    watcher = threading.Thread(
        target=watch_and_index, args=(knowledge_copy, reindex, 100, stop, lambda exc: errors.append(str(exc)))
    )
    watcher.start()
    try:
        time.sleep(0.5)  # let the watcher start
        (knowledge_copy / "note.md").write_text("# Tariffs\n\nA note about tariffs.\n")
        deadline = time.monotonic() + 10
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs and runs[-1] == current_version_name(index)
        assert any(p.doc == "note.md" for p in load_index(index).passages.values())

        with index_lock(index):  # another run holds the lock: this one fails, watching goes on
            (knowledge_copy / "note.md").write_text("# Tariffs\n\nA note about tariffs on steel.\n")
            deadline = time.monotonic() + 10
            while not errors and time.monotonic() < deadline:
                time.sleep(0.05)
        assert errors and "another index run holds" in errors[0]
        (knowledge_copy / "note.md").write_text("# Tariffs\n\nA note about tariffs on aluminium.\n")
        deadline = time.monotonic() + 10
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("aluminium" in p.text for p in load_index(index).passages.values())
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


def test_on_published_hears_of_each_version_once_readers_load_it(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    current: list[str | None] = []
    first = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT, on_published=lambda v: current.append(v))
    assert current == [first.version] == [current_version_name(index)]
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT, dry_run=True, on_published=current.append)
    assert current == [first.version]  # a dry run publishes nothing
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT, on_published=current.append)
    assert current == [first.version] * 2  # up to date: told again, so a failed record is made now


def test_on_published_hears_nothing_of_a_refused_version_or_an_empty_knowledge_folder(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    told: list[str] = []
    refused = build_index(
        knowledge_copy,
        tmp_path / "index",
        FakeEmbedder(),
        SPLIT,
        gate=lambda _: (False, "worse"),
        on_published=told.append,
    )
    assert refused.kept_aside is not None and told == []
    (tmp_path / "empty").mkdir()
    empty = build_index(tmp_path / "empty", tmp_path / "index2", FakeEmbedder(), SPLIT, on_published=told.append)
    assert empty.published and told == []
