"""`policybot sources`: the documents in the index, with passage counts and metadata."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from embeddings.passage import Passage

SHOWN_KEYS = ("publisher", "author", "country", "date", "version")


@dataclass
class DocumentSummary:
    """One indexed document, as its passages describe it."""

    doc: str
    title: str
    source: str
    passages: int = 0
    pages: set[int] = field(default_factory=set)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "title": self.title,
            "source": self.source,
            "passages": self.passages,
            "pages": sorted(self.pages),
            "metadata": {k: v for k, v in self.metadata.items() if k != "page"},
        }


def summarize(passages: Iterable[Passage]) -> list[DocumentSummary]:
    """Documents in path order, each with its passage count and the pages its passages come from."""
    docs: dict[str, DocumentSummary] = {}
    for p in passages:
        summary = docs.setdefault(p.doc, DocumentSummary(p.doc, p.title, p.source, metadata=dict(p.metadata)))
        summary.passages += 1
        if isinstance(p.metadata.get("page"), int):
            summary.pages.add(p.metadata["page"])
    return [docs[name] for name in sorted(docs)]


def format_document_list(summaries: list[DocumentSummary], version: str = "") -> str:
    """A readable listing:

    germany/key-policies.html: 9 passages
        Key Policies: Germany
        https://policy-portal.example.org/country-profiles/Germany/key-policies
        publisher PolicyBot test fixtures; country Germany; date 2026-11-26
    """
    total = sum(s.passages for s in summaries)
    lines = [f"{len(summaries)} documents, {total} passages" + (f" in index {version}" if version else "")]
    for s in summaries:
        pages = f", pages {min(s.pages)}–{max(s.pages)}" if s.pages else ""
        lines.append("")
        lines.append(f"{s.doc}: {s.passages} passages{pages}")
        lines.append(f"    {s.title}")
        if s.source != s.doc:
            lines.append(f"    {s.source}")
        details = "; ".join(f"{k} {s.metadata[k]}" for k in SHOWN_KEYS if s.metadata.get(k))
        if details:
            lines.append(f"    {details}")
    return "\n".join(lines)
