"""The index on disk: round trips, re-embeds only what changed, refuses mismatches, survives crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.errors import IndexError_
from embeddings.index import versions
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import FORMAT_VERSION, check_compatible
from embeddings.index.versions import current_version_dir
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()


def test_index_round_trip_keeps_passages_vectors_and_metadata(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    report = build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    index = load_index(tmp_path / "index")
    assert report.documents == 1 and report.passages == 9 and not report.problems
    assert index.vectors.count == 9 == len(index.passages)
    assert index.meta.model == "fake-hash" and index.meta.dimension == 64
    assert index.meta.splitter == {"max_chars": 1200, "min_chars": 1}
    meta = json.loads((index.path / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    first = next(iter(index.passages.values()))
    scores, ids = index.vectors.search(fake_embedder.embed([first.context_text()]), 1)
    assert int(ids[0][0]) == first.id and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert index.passages[first.id].metadata["country"] == "United States"
    assert index.sentence_vectors[first.id].shape == (len(first.sentences), 64)


def test_index_files_hold_no_pickle(knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    version = current_version_dir(tmp_path / "index")
    assert version is not None
    assert sorted(p.name for p in version.iterdir()) == [
        "changes.json",
        "meta.json",
        "passages.sqlite",
        "vectors.faiss",
    ]
    for path in version.iterdir():
        assert b"\x80\x04\x95" not in path.read_bytes()  # pickle protocol 4 header


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


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match=r"no index found .*policybot index"):
        load_index(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "other-model"}, "built with model 'fake-hash', config.yaml names 'other-model'"),
        ({"dimension": 128}, "dimension 64, the model 'fake-hash' gives 128"),
        ({"splitter": {"max_chars": 500, "min_chars": 1}}, "was split with"),
        ({"format_version": 99}, "format version 99"),
    ],
)
def test_an_index_built_differently_is_refused_with_the_rebuild_command(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder, change: dict, message: str
) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    meta = load_index(tmp_path / "index").meta
    model = change.get("model", meta.model)
    dimension = change.get("dimension", meta.dimension)
    splitter = change.get("splitter", meta.splitter)
    if "format_version" in change:
        version_dir = current_version_dir(tmp_path / "index")
        assert version_dir is not None
        raw = json.loads((version_dir / "meta.json").read_text())
        raw["format_version"] = change["format_version"]
        (version_dir / "meta.json").write_text(json.dumps(raw))
        with pytest.raises(IndexError_, match=message) as caught:
            load_index(tmp_path / "index")
    else:
        with pytest.raises(IndexError_, match=message) as caught:
            check_compatible(meta, model, dimension, splitter)
    assert "policybot index --full" in str(caught.value)


def test_a_model_change_rebuilds_everything_and_says_why(knowledge_copy: Path, tmp_path: Path) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(name="model-a"), SPLIT)
    other = FakeEmbedder(name="model-b")
    report = build_index(knowledge_copy, tmp_path / "index", other, SPLIT)
    assert report.added == 9 and report.unchanged == 0
    assert "model-a" in report.rebuilt_because
    assert load_index(tmp_path / "index").meta.model == "model-b"


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


def test_a_damaged_index_file_is_reported_not_crashed_on(
    knowledge_copy: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    build_index(knowledge_copy, tmp_path / "index", fake_embedder, SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
    (version_dir / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match=r"damaged.*policybot index --full"):
        load_index(tmp_path / "index")


def test_old_versions_are_pruned(knowledge_copy: Path, tmp_path: Path) -> None:
    for i in range(4):
        (knowledge_copy / "note.txt").write_text(f"Version {i} of a note about tariffs.")
        build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    folders = list((tmp_path / "index" / "versions").iterdir())
    assert len(folders) == versions.KEEP_VERSIONS
    assert any("Version 3" in p.text for p in load_index(tmp_path / "index").passages.values())


def test_an_older_format_with_valid_vectors_is_upgraded_without_reembedding(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    build_index(knowledge_copy, tmp_path / "index", FakeEmbedder(), SPLIT)
    version_dir = current_version_dir(tmp_path / "index")
    assert version_dir is not None
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
