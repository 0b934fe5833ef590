"""Read knowledge documents (Markdown with front matter, plain text) into `Document`s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from embeddings.errors import DocumentError

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".txt"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES


@dataclass(frozen=True)
class Document:
    """One source document: where it lives, what it says, and who published it."""

    path: str  # relative to the knowledge folder, with forward slashes
    format: str  # "markdown" or "text"
    title: str
    body: str
    source: str  # the URL readers should follow, or the document path
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def country(self) -> str | None:
        value = self.metadata.get("country")
        return str(value) if value else None


def read_document(path: Path, root: Path) -> Document:
    """Read one file; raise `DocumentError` naming the file and the reason it is unusable."""
    rel = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(rel, f"unsupported format {suffix or '(no extension)'!r}; use .md or .txt")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(rel, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            rel, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from exc
    if "\x00" in text:
        raise DocumentError(rel, "contains NUL bytes; it looks like a binary file")
    if not text.strip():
        raise DocumentError(rel, "is empty")
    metadata: dict[str, Any] = {}
    body = text
    if suffix in MARKDOWN_SUFFIXES:
        metadata, body = _split_front_matter(rel, text)
    if not body.strip():
        raise DocumentError(rel, "has front matter but no text")
    title = str(metadata.get("title") or _title_from(body) or Path(rel).stem.replace("-", " ").title())
    source = str(metadata.get("source_url") or metadata.get("url") or rel)
    return Document(
        path=rel,
        format="markdown" if suffix in MARKDOWN_SUFFIXES else "text",
        title=title,
        body=body,
        source=source,
        metadata=metadata,
    )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)


def _split_front_matter(rel: str, text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise DocumentError(rel, "broken front matter: the closing '---' line is missing")
    try:
        metadata = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(rel, f"broken front matter{where}: {problem}") from exc
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise DocumentError(rel, "broken front matter: expected 'key: value' lines")
    return {str(k): v for k, v in metadata.items()}, text[match.end() :]


def _title_from(body: str) -> str | None:
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip()
        if stripped:
            return None
    return None


def iter_document_paths(root: Path) -> Iterator[Path]:
    """Files under `root` in a stable order, skipping hidden files and folders."""
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel_parts) or not path.is_file():
            continue
        yield path


def scan_knowledge(root: Path) -> tuple[list[Document], list[DocumentError]]:
    """Read every document under `root`; unreadable ones are returned as errors, not raised."""
    documents: list[Document] = []
    problems: list[DocumentError] = []
    for path in iter_document_paths(root):
        try:
            documents.append(read_document(path, root))
        except DocumentError as exc:
            problems.append(exc)
    return documents, problems
