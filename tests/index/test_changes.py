"""Each publication records what it changed, in a digest users can read."""

from __future__ import annotations

from pathlib import Path

from embeddings.index.build import build_index
from embeddings.index.changes import format_changes, read_changes
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()
US_DOC = Path("united-states") / "key-policies.md"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


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
