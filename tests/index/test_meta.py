"""An index built differently from the configuration is refused, with the command that rebuilds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import load_index
from embeddings.index.meta import check_compatible
from embeddings.index.versions import current_version_dir
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder

SPLIT = SplitterSettings()


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
