"""What each index version changed (documents and sections added, edited, removed), and the change log.

Each version folder holds its digest in `changes.json`; publishing it appends that digest to
`index/changes.jsonl`, one line per publication, newest last.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
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


def write_changes(version_dir: Path, changes: dict[str, Any] | None) -> None:
    """Write a version's digest into its folder (`{}` when there is none)."""
    (version_dir / "changes.json").write_text(json.dumps(changes or {}, indent=2) + "\n", encoding="utf-8")


def log_change(index_dir: Path, version_dir: Path) -> None:
    """Append the digest of the version just published to `index/changes.jsonl`."""
    changes_path = version_dir / "changes.json"
    if changes_path.is_file():
        entry = json.loads(changes_path.read_text(encoding="utf-8"))
        with open(index_dir / "changes.jsonl", "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps({"version": version_dir.name, **entry}) + "\n")
            log_file.flush()
            os.fsync(log_file.fileno())


def version_changes(version_dir: Path) -> dict[str, Any]:
    """The change digest written with one version ({} when it has none)."""
    try:
        entry: dict[str, Any] = json.loads((version_dir / "changes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"version": version_dir.name, **entry}


def read_changes(index_dir: Path, count: int = 1) -> list[dict[str, Any]]:
    """The last `count` change digests, newest first."""
    path = index_dir / "changes.jsonl"
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a torn last line after a crash
    return entries[::-1][:count]
