"""The index under storage faults: a full disk, a read-only folder, a corrupt passage store. Each gives one
clear error and the published index keeps serving. Real files, real FAISS; a tiny tmpfs plays the disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.reloader import IndexReloader
from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.versions import current_version_name
from embeddings.ingest.splitter import SplitterSettings
from embeddings.retrieval import Retriever
from tests.conftest import FakeEmbedder, write_config
from tests.disk_faults import fill, mount_tmpfs


def test_a_full_disk_while_indexing_leaves_the_published_index_serving(
    small_disk: Path, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = small_disk / "index"
    embedder = FakeEmbedder()
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    before = current_version_name(index)
    (knowledge_copy / "big.md").write_text(
        "# Big\n\n" + "\n\n".join(f"Paragraph {i} about advanced manufacturing policy." for i in range(4000))
    )
    filler = fill(small_disk, leave=64 * 1024)
    with pytest.raises(IndexError_, match=r"cannot write the index .*(No space left|disk is full|full)") as raised:
        build_index(knowledge_copy, index, embedder, SplitterSettings())
    assert before in str(raised.value) and "still serves" in str(raised.value)
    assert current_version_name(index) == before
    assert len(load_index(index).passages) > 0  # the old version loads and answers
    assert [p.name for p in (index / "versions").iterdir() if p.name.startswith(".")] == []  # no half-written folder
    config = write_config(small_disk.parent / "config.yaml", knowledge_copy, index)
    filler.unlink()
    filler = fill(small_disk, leave=64 * 1024)
    assert main(["--config", str(config), "sources"]) == 0  # still readable from the CLI
    capsys.readouterr()
    filler.unlink()
    report = build_index(knowledge_copy, index, embedder, SplitterSettings())  # space again: the run completes
    assert report.published and current_version_name(index) != before


def test_a_read_only_index_folder_gives_a_clear_error_and_keeps_serving(tmp_path: Path, knowledge_copy: Path) -> None:
    index = tmp_path / "index"
    if not mount_tmpfs(index, "4m"):
        pytest.skip("mounting a tmpfs needs root (or CAP_SYS_ADMIN); cannot make a read-only folder as root otherwise")
    try:
        embedder = FakeEmbedder()
        build_index(knowledge_copy, index, embedder, SplitterSettings())
        before = current_version_name(index)
        (knowledge_copy / "new.md").write_text("# New\n\nA new paragraph about robotics grants.\n")
        subprocess.run(["mount", "-o", "remount,ro", str(index)], check=True)
        with pytest.raises(IndexError_, match=r"cannot write the index .*Read-only file system"):
            build_index(knowledge_copy, index, embedder, SplitterSettings())
        assert current_version_name(index) == before and load_index(index).passages
    finally:
        subprocess.run(["umount", "-l", str(index)], check=False)


def test_a_corrupt_passage_store_is_named_and_the_old_version_keeps_serving(
    tmp_path: Path, knowledge_copy: Path
) -> None:
    index = tmp_path / "index"
    embedder = FakeEmbedder()
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    config = write_config(tmp_path / "config.yaml", knowledge_copy, index, "model: fake-hash\n")
    retriever = Retriever(load_index(index), embedder)
    reloader = IndexReloader(retriever, load_settings(config))
    old = retriever.index.version
    (knowledge_copy / "new.md").write_text("# New\n\nA new paragraph about robotics grants.\n")
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    store = index / "versions" / str(current_version_name(index)) / "passages.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    assert reloader.check() is False and retriever.index.version == old  # the old version keeps serving
    with pytest.raises(IndexError_, match=r"passages.sqlite does not match its checksum.*run: policybot index"):
        load_index(index)
