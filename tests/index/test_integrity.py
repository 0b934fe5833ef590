"""A version is used only when every file matches the checksum its meta.json records: a damaged one is
never served, never reused by a build, and the next `policybot index` sets it aside and rebuilds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.config import load_settings
from bot.reloader import IndexReloader
from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index, load_version
from embeddings.index.meta import FORMAT_VERSION
from embeddings.index.versions import current_version_dir, current_version_name
from embeddings.ingest.splitter import SplitterSettings
from embeddings.retrieval import Retriever
from tests.conftest import ROOT, FakeEmbedder, write_config
from tests.index.older_formats import sentences_into_sqlite

SPLIT = SplitterSettings()
FILES = ["vectors.faiss", "passages.sqlite", "sentences.f16", "lexical.data.npy", "meta.json", "changes.json"]


def damage(path: Path, how: str) -> None:
    """Truncate a file to half its size, or flip one bit in its middle (the size stays the same)."""
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


def build(knowledge: Path, index: Path, note: str | None = None, **kwargs: object) -> str:
    """Index with `note.txt` holding `note` (none: no note); returns the published version."""
    if note is not None:
        (knowledge / "note.txt").write_text(f"A note about tariffs: {note}.")
    elif (knowledge / "note.txt").exists():
        (knowledge / "note.txt").unlink()
    report = build_index(knowledge, index, FakeEmbedder(), SPLIT, **kwargs)  # type: ignore[arg-type]
    assert report.published or report.version == current_version_name(index)
    return report.version


def ask(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--config", str(config), "ask", "What does the strategy say about manufacturing?"])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("how", ["truncate", "flip"])
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_file_is_never_served_and_the_next_index_rebuilds_it(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, how: str
) -> None:
    index = tmp_path / "index"
    version = build(knowledge_copy, index)
    damage(index / "versions" / version / name, how)
    with pytest.raises(IndexError_):
        load_index(index)
    status, err = ask(write_config(tmp_path / "config.yaml", knowledge_copy, index), capsys)
    assert status == 1 and "policybot index" in err and "Traceback" not in err
    assert build(knowledge_copy, index) == version  # the same content: the same version, written anew
    assert len(load_index(index).passages) == 9
    assert name in (index / "damaged" / version / "REASON.txt").read_text()


@pytest.mark.parametrize("full", [False, True])
def test_a_half_deleted_version_is_rebuilt_when_the_content_returns_to_it(
    knowledge_copy: Path, tmp_path: Path, full: bool
) -> None:
    """Reproduced: one folder without vectors.faiss, one without meta.json; with the gate on, every
    `index` (and `index --full`) failed, and a leftover without meta.json gave "Free disk space"."""
    index = tmp_path / "index"
    a, b, c = build(knowledge_copy, index, "a"), build(knowledge_copy, index, "b"), build(knowledge_copy, index, "c")
    (index / "versions" / a / "vectors.faiss").unlink()
    (index / "versions" / b / "meta.json").unlink()

    def gate(version_dir: Path) -> tuple[bool, str]:  # as the evaluation gate: it loads the new version
        load_version(version_dir)
        return True, "ok"

    for note, version in (("a", a), ("b", b)):
        assert build(knowledge_copy, index, note, gate=gate, full=full) == version
        assert current_version_name(index) == version and len(load_index(index).passages) == 10
    assert current_version_name(index) != c


def test_bytes_overwritten_in_the_vectors_are_refused_by_the_reloader(tmp_path: Path, knowledge_copy: Path) -> None:
    """Reproduced: overwritten bytes inside vectors.faiss loaded silently and answered wrongly."""
    index = tmp_path / "index"
    embedder = FakeEmbedder()
    old = build(knowledge_copy, index)
    retriever = Retriever(load_index(index), embedder)
    reloader = IndexReloader(
        retriever, load_settings(write_config(tmp_path / "c.yaml", knowledge_copy, index, "model: fake-hash\n"))
    )
    new = build(knowledge_copy, index, "new")
    vectors = index / "versions" / new / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[200:264] = b"\x00" * 64  # inside the vector data; the file keeps its size and loads in FAISS
    vectors.write_bytes(bytes(data))
    assert reloader.check() is False and retriever.index.version == old
    build(knowledge_copy, index, "newer")  # the next run copies no damaged vector: each is as embedded
    loaded = load_index(index)
    ids = list(loaded.passages)
    expected = embedder.embed([loaded.passages[i].context_text() for i in ids])
    assert np.allclose(loaded.passage_vectors(ids), expected, atol=1e-3)  # stored as float16


KILLED_MID_PRUNE = """
import os, shutil, signal, sys
from pathlib import Path
from embeddings.index.build import build_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

def dying_rmtree(path, ignore_errors=False):  # deletes one file of the old version, then kill -9
    (Path(path) / "vectors.faiss").unlink()
    os.kill(os.getpid(), signal.SIGKILL)

shutil.rmtree = dying_rmtree
build_index(Path(sys.argv[1]), Path(sys.argv[2]), FakeEmbedder(), SplitterSettings())
"""


def test_a_kill_while_pruning_leaves_no_folder_that_looks_like_a_version(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = build(knowledge_copy, index, "v0")
    build(knowledge_copy, index, "v1")
    build(knowledge_copy, index, "v2")
    (knowledge_copy / "note.txt").write_text("A note about tariffs: v3.")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-c", KILLED_MID_PRUNE, str(knowledge_copy), str(index)], cwd=ROOT, env=env)
    assert child.returncode == -9  # killed while deleting the oldest version, after publishing v3
    assert any("v3" in p.text for p in load_index(index).passages.values())
    assert build(knowledge_copy, index, "v0") == first  # the content returns to the pruned version
    assert any("v0" in p.text for p in load_index(index).passages.values())
    assert [d.name for d in (index / "versions").iterdir() if d.name.startswith(".")] == []


def test_a_kill_while_pruning_leaves_nothing_after_the_next_index_even_with_nothing_to_publish(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    for note in ("v0", "v1", "v2"):
        build(knowledge_copy, index, note)
    (knowledge_copy / "note.txt").write_text("A note about tariffs: v3.")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-c", KILLED_MID_PRUNE, str(knowledge_copy), str(index)], cwd=ROOT, env=env)
    assert child.returncode == -9
    assert [d.name for d in (index / "versions").iterdir() if d.name.startswith(".")]  # the half-deleted version
    report = build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)  # v3 is published already: up to date
    assert not report.published and report.version == current_version_name(index)
    assert [d.name for d in (index / "versions").iterdir() if d.name.startswith(".")] == []


def test_a_leftover_temp_folder_of_a_crashed_write_is_removed_by_the_next_index(
    knowledge_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    version = build(knowledge_copy, index)
    leftover = index / "versions" / f".{version}.x1y2z3"
    leftover.mkdir()
    (leftover / "vectors.faiss").write_bytes(b"half a file")
    build(knowledge_copy, index, "new")
    assert not leftover.exists()
    assert [d.name for d in (index / "versions").iterdir() if d.name.startswith(".")] == []


def test_index_verify_names_what_is_wrong_with_each_version_and_index_repairs_it(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    config = write_config(tmp_path / "config.yaml", knowledge_copy, index)
    old, new = build(knowledge_copy, index, "old"), build(knowledge_copy, index, "new")
    damage(index / "versions" / old / "passages.sqlite", "flip")
    assert main(["--config", str(config), "index", "--verify"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{new} (published): ok",
        f"{old}: passages.sqlite does not match its checksum (damaged or truncated)",
    ]
    build(knowledge_copy, index, "new")  # up to date, but the damaged old version is set aside
    assert main(["--config", str(config), "index", "--verify"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{new} (published): ok"]
    assert (index / "damaged" / old / "REASON.txt").is_file()


def as_format_3(index: Path) -> Path:
    """Rewrite the published version as format 3 wrote it: no checksums, an id of its own."""
    version_dir = current_version_dir(index)
    assert version_dir is not None
    sentences_into_sqlite(version_dir)
    raw = json.loads((version_dir / "meta.json").read_text())
    del raw["files"], raw["checksum"]
    raw["format_version"], raw["version"] = 3, "0123456789ab"
    (version_dir / "meta.json").write_text(json.dumps(raw))
    version_dir = version_dir.rename(version_dir.parent / raw["version"])
    (index / "CURRENT").write_text(raw["version"] + "\n")
    return version_dir


def test_a_format_3_index_is_upgraded_without_reembedding_and_ask_says_to_run_index(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    build(knowledge_copy, index)
    as_format_3(index)
    config = write_config(tmp_path / "config.yaml", knowledge_copy, index)
    status, err = ask(config, capsys)
    assert status == 1 and "format version 3" in err and "run: policybot index (it upgrades" in err
    embedder = FakeEmbedder()
    report = build_index(knowledge_copy, index, embedder, SPLIT)
    assert embedder.embedded == [] and report.unchanged == 9 and report.published
    upgraded = load_index(index)
    assert upgraded.meta.format_version == FORMAT_VERSION
    assert set(upgraded.meta.files) == {"vectors.faiss", "passages.sqlite", "sentences.f16", "changes.json"} | {
        f"lexical.{part}" for part in ("data.npy", "indices.npy", "indptr.npy", "params.json", "vocab.json")
    }
    assert main(["--config", str(config), "index", "--verify"]) == 0  # the older version is listed, not failed
    assert "0123456789ab: not checked: format 3" in capsys.readouterr().out


def test_a_format_3_index_with_damaged_vectors_is_reembedded_not_copied(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build(knowledge_copy, index)
    vectors = as_format_3(index) / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[200:264] = b"\xff" * 64  # no checksum to catch it: the vectors are no longer of unit length
    vectors.write_bytes(bytes(data))
    embedder = FakeEmbedder()
    report = build_index(knowledge_copy, index, embedder, SPLIT)
    assert report.published and report.unchanged == 0 and "damaged" in report.rebuilt_because
