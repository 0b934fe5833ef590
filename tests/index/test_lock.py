"""One index run at a time per index folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embeddings.errors import IndexLocked
from embeddings.index.build import build_index
from embeddings.index.lock import index_lock
from embeddings.index.versions import current_version_name
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()


def test_a_second_index_run_is_refused_and_told_who_holds_the_lock(knowledge_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    with index_lock(index), pytest.raises(IndexLocked, match=rf"pid {os.getpid()} on .* since"):
        build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)
    build_index(knowledge_copy, index, FakeEmbedder(), SPLIT)  # released: the next run goes through
    assert current_version_name(index)
