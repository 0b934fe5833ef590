"""What the Home tab and the suggested prompts say, from an index: its sections, documents, version and digest."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bot.slack.knowledge import home_view, suggested_prompts
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage


def index_of(path: Path, sections: list[tuple[str, str, tuple[str, ...]]]) -> LoadedIndex:
    """An index holding one passage per (doc, title, heading path): only what these functions read."""
    passages = {
        n: Passage(id=n, key=f"{doc}#{n}", doc=doc, title=title, section=section, text="x.", source=doc, position=n)
        for n, (doc, title, section) in enumerate(sections)
    }
    meta = SimpleNamespace(version="20260101-abc", created="2026-01-01T00:00:00+00:00")
    return cast(LoadedIndex, SimpleNamespace(passages=passages, meta=meta, version=meta.version, path=path))


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"])


def test_prompts_cover_each_document_before_a_second_section_of_one(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        [
            ("us.md", "US", ("US", "Energy")),
            ("us.md", "US", ("US", "Skills " + "x" * 80)),
            ("uk.md", "UK", ("UK", "Catapults")),
            ("de.md", "Germany", ("Germany",)),  # a document's own title is no section to suggest
        ],
    )
    prompts = suggested_prompts(index)
    assert [p["message"] for p in prompts[:2]] == [
        "What does UK say about Catapults?",  # documents in path order, as the knowledge folder lists them
        "What does US say about Energy?",
    ]
    assert len(prompts) == 3 and prompts[2]["title"].endswith("…") and len(prompts[2]["title"]) <= 75


def test_home_shows_documents_version_date_and_the_versions_digest(tmp_path: Path) -> None:
    index = index_of(tmp_path, [("us.md", "US & allies", ("US", "Energy")), ("uk.md", "UK", ("UK", "Skills"))])
    assert "Last update" not in text_of(home_view(index))
    (tmp_path / "changes.json").write_text(json.dumps({"created": "2026-01-01", "summary": "1 document added"}))
    shown = text_of(home_view(index))
    assert "US &amp; allies" in shown and "UK" in shown and "2 documents" in shown
    assert "20260101-abc" in shown and "2026-01-01T00:00:00+00:00" in shown
    assert "*Last update*" in shown and "1 document added" in shown
