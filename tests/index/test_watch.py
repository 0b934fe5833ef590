"""`policybot index --watch` re-indexes after each edit and survives a failing run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.lock import index_lock
from embeddings.index.versions import current_version_name
from embeddings.index.watch import watch_and_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()


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
