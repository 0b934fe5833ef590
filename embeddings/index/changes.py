"""What each index version changed (documents and sections added, edited, removed), and the change log.

Each version folder holds its digest in `changes.json`; publishing it appends that digest to
`index/changes.jsonl`, one line per publication, newest last. The log is derivable from the
folders: an entry it lost (a crash between CURRENT and the append, a torn line) is read from
the version's own `changes.json`, and written to the log by the next publication.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from embeddings.passage import Passage

log = logging.getLogger(__name__)


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


def log_change(index_dir: Path, version_dir: Path, previous: str | None = None) -> None:
    """Append the digest of the version just published to `index/changes.jsonl`, after the entry
    of `previous` (the version it replaces) and its forebears if the log lost them (a crash between
    CURRENT and the append, a torn line); each entry starts on a line of its own."""
    path = index_dir / "changes.jsonl"
    logged = _read_log(path)
    replaced = previous if previous != version_dir.name else None  # (republished: logged once more)
    entries = [*_unlogged(index_dir, logged, replaced), version_changes(version_dir)]
    lines = "".join(json.dumps(entry) + "\n" for entry in entries if entry)
    if not lines:
        return
    with open(path, "a+b") as log_file:
        if log_file.tell() and not _ends_with_newline(log_file):
            lines = "\n" + lines  # the last line was torn: it stays alone, skipped when read
        log_file.write(lines.encode("utf-8"))
        log_file.flush()
        os.fsync(log_file.fileno())


def _ends_with_newline(log_file: BinaryIO) -> bool:
    log_file.seek(-1, os.SEEK_END)
    return log_file.read(1) == b"\n"


def version_changes(version_dir: Path) -> dict[str, Any]:
    """The change digest written with one version ({} when it has none)."""
    try:
        entry = json.loads((version_dir / "changes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"version": version_dir.name, **entry} if isinstance(entry, dict) else {}


def read_changes(index_dir: Path, count: int = 1) -> list[dict[str, Any]]:
    """The digests of the last `count` publications, newest first: `index/changes.jsonl`, with the
    entries it lost (a crash between CURRENT and the append, a torn line) taken from the version
    folders, each of which holds its own `changes.json`."""
    logged = _read_log(index_dir / "changes.jsonl")
    try:
        current = (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        current = None
    entries = _merge(logged, _unlogged(index_dir, logged, current), current)
    return entries[::-1][:count]


def _read_log(path: Path) -> list[dict[str, Any]]:
    """The entries of the change log, in publication order; a damaged line is skipped with a warning."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = json.loads(line) if line.strip() else None
        except ValueError:
            entry = "damaged"
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            entries.append(entry)
        elif entry is not None:
            log.warning(
                "%s line %d is damaged (a write cut short?) and was skipped; what it held is taken from the "
                "version folders while they are kept; delete the line to silence this",
                path,
                number,
            )
    return entries


def _unlogged(index_dir: Path, logged: list[dict[str, Any]], current: str | None) -> list[dict[str, Any]]:
    """Published versions the log misses, oldest first: `current` (CURRENT, or the version a new
    publication replaces) when the log does not end with it, and the versions each entry names as
    its `previous` (so published before it) whose folder is still there."""
    names = {entry["version"] for entry in logged}
    found: dict[str, dict[str, Any]] = {}
    wanted = [str(e.get("previous") or "") for e in logged] + [current or ""]
    while wanted:
        name = wanted.pop()
        if name and name not in names and name not in found:
            entry = version_changes(index_dir / "versions" / name)
            if entry:
                found[name] = entry
                wanted.append(str(entry.get("previous") or ""))
    missing = sorted((e for n, e in found.items() if n != current), key=lambda e: str(e.get("created", "")))
    last = logged[-1]["version"] if logged else None
    if current and last != current:  # the latest publication, even of a version logged before
        entry = found.get(current) or version_changes(index_dir / "versions" / current)
        missing += [entry] if entry else []
    return missing


def _merge(logged: list[dict[str, Any]], missing: list[dict[str, Any]], current: str | None) -> list[dict[str, Any]]:
    """The log with the missing entries put in publication order: the current version's last,
    each other after the last entry created before it."""
    merged = list(logged)
    for entry in missing:
        if entry["version"] == current:  # the last of `missing`
            merged.append(entry)
            continue
        created = str(entry.get("created", ""))
        place = max((i + 1 for i, e in enumerate(merged) if str(e.get("created", "")) <= created), default=0)
        merged.insert(place, entry)
    return merged
