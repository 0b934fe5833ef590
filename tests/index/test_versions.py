"""Index versions on disk: plain files, written whole or not at all, old ones pruned."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embeddings.errors import IndexError_
from embeddings.index import versions
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.versions import current_version_dir, current_version_name
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import ROOT, FakeEmbedder

SPLIT = SplitterSettings()
US_DOC = Path("united-states") / "key-policies.md"

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


def test_index_files_hold_no_pickle(knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    version = current_version_dir(tmp_path / "index")
    assert version is not None
    assert sorted(p.name for p in version.iterdir()) == [
        "changes.json",
        "lexical.data.npy",
        "lexical.indices.npy",
        "lexical.indptr.npy",
        "lexical.params.json",
        "lexical.vocab.json",
        "meta.json",
        "passages.sqlite",
        "sentences.f16",
        "vectors.faiss",
    ]
    for path in version.iterdir():
        assert b"\x80\x04\x95" not in path.read_bytes()  # pickle protocol 4 header


def test_a_crash_while_writing_leaves_the_previous_index_serving(
    knowledge_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    before = load_index(tmp_path / "index")
    (knowledge_copy / "new.txt").write_text("Something new about export controls.")

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(versions, "write_passages", crash)
    with pytest.raises(IndexError_, match=r"No space left on device.*still serves"):
        build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    after = load_index(tmp_path / "index")
    assert after.version == before.version
    assert sorted(after.passages) == sorted(before.passages)
    leftovers = [p.name for p in (tmp_path / "index" / "versions").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_old_versions_are_pruned(knowledge_copy: Path, tmp_path: Path) -> None:
    for i in range(4):
        (knowledge_copy / "note.txt").write_text(f"Version {i} of a note about tariffs.")
        build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    folders = list((tmp_path / "index" / "versions").iterdir())
    assert len(folders) == versions.KEEP_VERSIONS
    assert any("Version 3" in p.text for p in load_index(tmp_path / "index").passages.values())


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
