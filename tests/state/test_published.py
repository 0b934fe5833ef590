"""The published index version: `policybot index` records it in the state database, and replicas serve it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.reloader import IndexReloader
from bot.state.database import Database, parse_url
from bot.state.published import published_version, record_published_version
from embeddings.index.build import build_index
from embeddings.index.loaded import load_version
from embeddings.index.versions import current_version_name
from embeddings.retrieval import Retriever


def test_the_published_version_is_what_every_replica_serves(
    db: Database, state_url: str, tmp_path: Path, knowledge_copy: Path, embedder: object, shipped_settings: Settings
) -> None:
    index = tmp_path / "index"
    shutil.copytree(shipped_settings.index_dir, index)  # the shipped knowledge, already embedded
    first = current_version_name(index)
    record_published_version(db, str(first))
    doc = knowledge_copy / "united-states" / "key-policies.md"
    doc.write_text(doc.read_text().replace("three pillars", "three main pillars"))
    build_index(knowledge_copy, index, embedder, shipped_settings.splitter)  # type: ignore[arg-type]
    second = current_version_name(index)
    assert second != first
    settings = shipped_settings.model_copy(update={"index_dir": index})
    other = Database(parse_url(state_url, Path(".")), shared=True)  # the replica's own connection
    retriever = Retriever(load_version(index / "versions" / str(first)), embedder)  # type: ignore[arg-type]
    reloader = IndexReloader(retriever, settings, version_source=lambda: published_version(other))
    try:
        assert reloader.check() is False and retriever.index.version == first  # CURRENT moved; the database did not
        record_published_version(db, str(second))
        assert reloader.check() is True and retriever.index.version == second
    finally:
        other.close()


def test_policybot_index_records_the_version_only_when_a_database_is_configured(
    tmp_path: Path, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    base = f"knowledge_dir: {knowledge_copy}\nindex_dir: {tmp_path / 'index'}\nhistory_file: {tmp_path / 'h'}\n"
    config.write_text(base)
    assert main(["--config", str(config), "index"]) == 0
    assert not (tmp_path / "var").exists()  # one process, no database: index/CURRENT alone decides
    config.write_text(base + "state:\n  url: sqlite:///var/state.sqlite3\n")
    assert main(["--config", str(config), "index"]) == 0  # nothing changed, but the version is recorded
    version = current_version_name(tmp_path / "index")
    assert (
        f"replicas sharing sqlite:///{tmp_path}/var/state.sqlite3 now serve index {version}" in capsys.readouterr().err
    )
    db = Database(parse_url(f"sqlite:///{tmp_path}/var/state.sqlite3", tmp_path))
    assert published_version(db) == version
