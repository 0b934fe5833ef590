"""Each publication records what it changed, in a digest users can read."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from embeddings.index.build import build_index
from embeddings.index.changes import format_changes, read_changes
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import ROOT, US_DOC, FakeEmbedder, edit, write_config

SPLIT = SplitterSettings()


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


# Publishes a new version in a process that is killed (SIGKILL) once CURRENT names it, before the log append.
KILLED_AFTER_CURRENT = """
import os, signal, sys
from pathlib import Path
from embeddings.index import versions
from embeddings.index.build import build_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder
versions.log_change = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
build_index(Path(sys.argv[1]), Path(sys.argv[2]), FakeEmbedder(), SplitterSettings())
"""


def changes_shown(tmp_path: Path, knowledge: Path, index: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The versions `policybot changes -n 10` prints, newest first."""
    assert main(["--config", str(write_config(tmp_path / "config.yaml", knowledge, index)), "changes", "-n", "10"]) == 0
    return [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("Index ")]


def test_a_kill_between_current_and_the_log_loses_no_entry(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    published = [build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version]
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_CURRENT, str(knowledge_copy), str(index)], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    published.append((index / "CURRENT").read_text().strip())
    assert changes_shown(tmp_path, knowledge_copy, index, capsys) == published[::-1]
    for n in range(3):  # later publications prune the killed one's folder: its entry stays
        (knowledge_copy / f"note{n}.txt").write_text(f"Note {n} about quotas.")
        published.append(build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version)
    assert not (index / "versions" / published[1]).exists()
    assert changes_shown(tmp_path, knowledge_copy, index, capsys) == published[::-1]


def test_a_torn_last_line_hides_no_later_entry_and_is_reported(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    first = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version
    log_path = index / "changes.jsonl"
    log_path.write_bytes(log_path.read_bytes()[:-20])  # as after a full disk
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    second = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version
    with caplog.at_level(logging.WARNING):
        assert changes_shown(tmp_path, knowledge_copy, index, capsys) == [second, first]
    assert f"{log_path} line 1 is damaged" in caplog.text
