"""A short digest of what a new index version changed: documents and sections added, edited, removed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from embeddings.passage import Passage


def describe_changes(
    old: Iterable[Passage], new: Iterable[Passage], old_docs: dict[str, str], new_docs: dict[str, str]
) -> dict[str, Any]:
    """Compare two versions by document digest and by section text."""
    docs_added = sorted(set(new_docs) - set(old_docs))
    docs_removed = sorted(set(old_docs) - set(new_docs))
    docs_edited = sorted(p for p in set(old_docs) & set(new_docs) if old_docs[p] != new_docs[p])
    old_sections, new_sections = _sections(old, docs_edited), _sections(new, docs_edited)
    return {
        "documents": {"added": docs_added, "edited": docs_edited, "removed": docs_removed},
        "sections": {
            "added": sorted(set(new_sections) - set(old_sections)),
            "edited": sorted(k for k in set(old_sections) & set(new_sections) if old_sections[k] != new_sections[k]),
            "removed": sorted(set(old_sections) - set(new_sections)),
        },
    }


def _sections(passages: Iterable[Passage], docs: list[str]) -> dict[str, str]:
    """'doc: section' -> the section's text, for the given documents."""
    wanted = set(docs)
    texts: dict[str, list[str]] = defaultdict(list)
    for p in sorted(passages, key=lambda p: (p.doc, p.position)):
        if p.doc in wanted:
            texts[f"{p.doc}: {p.section_label}"].append(p.text)
    return {k: "\n".join(v) for k, v in texts.items()}


def format_changes(entry: dict[str, Any]) -> str:
    """The digest as a few lines of text, for `policybot changes` and Slack."""
    lines = [f"Index {entry.get('version', '?')} ({entry.get('created', '')}): {entry.get('summary', '')}".rstrip()]
    for kind in ("documents", "sections"):
        for action in ("added", "edited", "removed"):
            items = entry.get(kind, {}).get(action, [])
            if items:
                shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
                lines.append(f"  {kind} {action}: {shown}")
    if len(lines) == 1:
        lines.append("  no documents or sections changed")
    return "\n".join(lines)
