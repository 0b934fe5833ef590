"""A running bot takes up each newly published index version, and refuses a damaged one."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.reloader import IndexReloader
from bot.wiring import build_answerer, start_reloader
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import US_DOC, FakeEmbedder, edit, settings_for

SPLIT = SplitterSettings()


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
    assert "vectors.faiss does not match its checksum" in caplog.text
    assert "run: policybot index" in caplog.text
    assert answerer.retriever.index.version == old_version
    assert answerer.ask("What did PCAST recommend in 2011?").index_version == old_version


def fake_bot(base: Settings, knowledge: Path, index: Path, reload_seconds: float) -> Settings:
    indexing = base.indexing.model_copy(update={"reload_seconds": reload_seconds})
    return settings_for(base, knowledge, index).model_copy(update={"model": "fake-hash", "indexing": indexing})


def slow_copy(source: Path, target: Path, chunks: int = 4, pause: float = 0.05) -> None:
    """Copy a file in pieces, as rsync or a network share may deliver it."""
    data = source.read_bytes()
    with open(target, "wb") as out:
        for i in range(chunks):
            out.write(data[i * len(data) // chunks : (i + 1) * len(data) // chunks])
            out.flush()
            time.sleep(pause)


def test_an_index_copied_file_by_file_is_served_once_the_copy_completes(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings
) -> None:
    source, index = tmp_path / "built", tmp_path / "index"
    settings = fake_bot(shipped_settings, knowledge_copy, index, reload_seconds=0.1)
    old = build_index(knowledge_copy, source, FakeEmbedder(), SPLIT).version
    shutil.copytree(source, index)
    answerer = build_answerer(settings, embedder=FakeEmbedder())
    reloader = IndexReloader(answerer.retriever, settings).start()
    try:
        (knowledge_copy / "note.txt").write_text("A note about tariffs.")
        new = build_index(knowledge_copy, source, FakeEmbedder(), SPLIT).version
        shutil.copy(source / "CURRENT", index / "CURRENT")  # CURRENT first, then the folder, file by file
        (index / "versions" / new).mkdir()
        for file in sorted((source / "versions" / new).iterdir()):
            slow_copy(file, index / "versions" / new / file.name)
        copied = time.monotonic()
        while answerer.retriever.index.version != new and time.monotonic() - copied < 1.0:  # 10 intervals
            time.sleep(0.02)
    finally:
        reloader.stop()
    assert (old, answerer.retriever.index.version) == (old, new)
    assert answerer.ask("What is the note about?").index_version == new


def test_a_version_repaired_in_place_is_served(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings
) -> None:
    settings = fake_bot(shipped_settings, knowledge_copy, tmp_path / "index", reload_seconds=0.05)
    build_index(knowledge_copy, settings.index_dir, FakeEmbedder(), SPLIT)
    answerer = build_answerer(settings, embedder=FakeEmbedder())
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    new = build_index(knowledge_copy, settings.index_dir, FakeEmbedder(), SPLIT).version
    vectors = settings.index_dir / "versions" / new / "vectors.faiss"
    good = vectors.read_bytes()
    vectors.write_bytes(good[:100])
    reloader = IndexReloader(answerer.retriever, settings)
    assert not reloader.check()
    vectors.write_bytes(good)  # e.g. copied again from a backup
    for _ in range(4):  # within a few intervals
        if reloader.check():
            break
        time.sleep(settings.indexing.reload_seconds)
    assert answerer.retriever.index.version == new


def test_a_version_that_keeps_failing_is_reported_once_not_at_every_retry(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fake_bot(shipped_settings, knowledge_copy, tmp_path / "index", reload_seconds=0.01)
    build_index(knowledge_copy, settings.index_dir, FakeEmbedder(), SPLIT)
    answerer = build_answerer(settings, embedder=FakeEmbedder())
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    new = build_index(knowledge_copy, settings.index_dir, FakeEmbedder(), SPLIT).version
    (settings.index_dir / "versions" / new / "vectors.faiss").write_bytes(b"truncated")
    reloader = IndexReloader(answerer.retriever, settings)
    with caplog.at_level(logging.ERROR):
        for _ in range(10):  # past several retry delays
            assert not reloader.check()
            time.sleep(0.02)
    [record] = [r for r in caplog.records if new in r.getMessage()]
    assert "retrying until it loads" in record.getMessage()


def test_with_reloading_off_a_replica_keeps_trying_to_take_up_the_shared_version(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings
) -> None:
    source, index = tmp_path / "built", tmp_path / "index"
    settings = fake_bot(shipped_settings, knowledge_copy, index, reload_seconds=0)
    build_index(knowledge_copy, source, FakeEmbedder(), SPLIT)
    shutil.copytree(source, index)
    answerer = build_answerer(settings, embedder=FakeEmbedder())
    (knowledge_copy / "note.txt").write_text("A note about tariffs.")
    shared = build_index(knowledge_copy, source, FakeEmbedder(), SPLIT).version  # recorded, not yet copied here
    catching_up = start_reloader(answerer, settings, version_source=lambda: shared)
    assert catching_up is not None and answerer.retriever.index.version != shared
    try:
        shutil.copytree(source / "versions" / shared, index / "versions" / shared)
        deadline = time.monotonic() + 5
        while answerer.retriever.index.version != shared and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answerer.retriever.index.version == shared
        deadline = time.monotonic() + 3
        while catching_up.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not catching_up.running  # caught up: it stops, as reloading is off
    finally:
        catching_up.stop()
