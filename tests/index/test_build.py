"""Building the index: only what changed is embedded, problems are reported, the gate decides what is published."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.answering.gate import EvaluationGate
from bot.config import Settings
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.errors import IndexError_
from embeddings.index import build
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import FORMAT_VERSION
from embeddings.index.versions import current_version_dir, current_version_name
from embeddings.ingest.splitter import SPLIT_RULES, SplitterSettings, split_document
from tests.conftest import EVAL_SET, US_DOC, FakeEmbedder, edit, settings_for
from tests.index.older_formats import sentences_into_sqlite

SPLIT = SplitterSettings()


def test_unchanged_passages_are_not_reembedded(knowledge_copy: Path, tmp_path: Path) -> None:
    first = FakeEmbedder()
    build_index(knowledge_copy, tmp_path / "index", first, SPLIT)
    again = FakeEmbedder()
    report = build_index(knowledge_copy, tmp_path / "index", again, SPLIT)
    assert again.embedded == []
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 0, 0, 9)


def test_an_edited_paragraph_is_the_only_thing_reembedded(knowledge_copy: Path, tmp_path: Path) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    doc = knowledge_copy / "united-states" / "key-policies.md"
    doc.write_text(doc.read_text().replace("starkly acknowledges", "plainly acknowledges"))
    (knowledge_copy / "note.txt").write_text("A brand new note about tariffs.")
    again = FakeEmbedder()
    report = build_index(knowledge_copy, tmp_path / "index", again, SPLIT)
    assert (report.added, report.changed, report.unchanged) == (1, 1, 8)
    assert any("plainly acknowledges" in text for text in again.embedded)
    assert not any("sixteen recommendations" in text for text in again.embedded)
    index = load_index(tmp_path / "index")
    assert any("plainly" in p.text for p in index.passages.values())


def test_a_broken_document_is_reported_and_the_rest_still_indexes(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    (knowledge_copy / "broken.md").write_text("---\ntitle: [unclosed\n---\nText")
    (knowledge_copy / "empty.txt").write_text("")
    report = build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    assert sorted(p.path for p in report.problems) == ["broken.md", "empty.txt"]
    assert report.passages == 9
    assert load_index(tmp_path / "index").vectors.count == 9


def test_a_document_that_becomes_unreadable_drops_out_and_is_reported(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    (knowledge_copy / "note.md").write_text("# Tariffs\n\nA note about tariffs on steel.")
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    (knowledge_copy / "note.md").write_bytes(b"\xff\xfe\x00broken")
    report = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    assert [p.path for p in report.problems] == ["note.md"]
    assert report.removed == 1 and report.unchanged == 9
    assert all(p.doc != "note.md" for p in load_index(index).passages.values())


def test_a_model_change_rebuilds_everything_and_says_why(knowledge_copy: Path, tmp_path: Path) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(name="model-a"), SPLIT)
    other = FakeEmbedder(name="model-b")
    report = build_index(knowledge_copy, tmp_path / "index", other, SPLIT)
    assert report.added == 9 and report.unchanged == 0
    assert "model-a" in report.rebuilt_because
    assert load_index(tmp_path / "index").meta.model == "model-b"


def test_an_older_format_with_valid_vectors_is_upgraded_without_reembedding(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    sentences_into_sqlite(version_dir)
    raw = json.loads((version_dir / "meta.json").read_text())
    raw["format_version"], raw["acronyms"], raw["version"] = 2, {}, "0123456789ab"  # as format 2 wrote it
    (version_dir / "meta.json").write_text(json.dumps(raw))
    version_dir.rename(version_dir.parent / raw["version"])
    (tmp_path / "index" / "CURRENT").write_text(raw["version"] + "\n")
    with pytest.raises(IndexError_, match="format version 2"):
        load_index(tmp_path / "index")  # the bot does not serve it as it is
    again = FakeEmbedder()
    report = build_index(knowledge_copy, tmp_path / "index", again, SPLIT)
    assert again.embedded == [] and report.unchanged == 9 and report.published
    upgraded = load_index(tmp_path / "index")
    assert upgraded.meta.format_version == FORMAT_VERSION
    assert upgraded.meta.acronyms["AMP"] == "Advanced Manufacturing Partnership"


def test_an_index_split_by_older_rules_is_split_again_without_reembedding(
    knowledge_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    (knowledge_copy / "amnpo.txt").write_text(
        "The AMNPO has two missions:\n• to convene industry\n• to design policy\n"
    )
    with monkeypatch.context() as older:  # as older rules, which read no lists in plain text, cut it
        older.setattr(build, "SPLIT_RULES", 1)
        older.setattr(
            build,
            "split_document",
            lambda doc, s: [replace(p, kind="paragraph", list_id=None) for p in split_document(doc, s)],
        )
        build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    assert {p.kind for p in load_index(index).passages.values() if p.doc == "amnpo.txt"} == {"paragraph"}

    again = FakeEmbedder()
    report = build_index(knowledge_copy, index, again, SPLIT)
    assert report.published and again.embedded == []  # same texts: vectors reused
    upgraded = load_index(index)
    assert upgraded.meta.split_rules == SPLIT_RULES
    pasted = sorted((p for p in upgraded.passages.values() if p.doc == "amnpo.txt"), key=lambda p: p.position)
    assert [p.kind for p in pasted] == ["paragraph", "list_item", "list_item"]
    assert len({p.list_id for p in pasted}) == 1
    assert build_index(knowledge_copy, index, FakeEmbedder(), SPLIT).version == report.version  # then left alone


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
