"""Read knowledge documents (Markdown, plain text, HTML pages, PDFs) into `Document`s.

The reader is chosen by content (see `embeddings.ingest.readers`); metadata comes from the document
itself (front matter, meta tags, PDF info) and from an optional `NAME.meta.yaml` beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.errors import DocumentError
from embeddings.ingest.plain_text import opening_heading
from embeddings.ingest.readers import Page, ReadLimits, extract, is_sidecar, read_sidecar

__all__ = ["Document", "DocumentError", "Page", "ReadLimits", "read_document", "scan_knowledge"]


@dataclass(frozen=True)
class Document:
    """One source document: where it lives, what it says, and who published it."""

    path: str  # relative to the knowledge folder, with forward slashes
    format: str  # "markdown", "text", "html" (body converted to Markdown) or "pdf"
    title: str
    body: str
    source: str  # the URL readers should follow, or the document path
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: tuple[Page, ...] = ()  # PDFs: the text of each page, which the splitter keeps apart


def read_document(path: Path, root: Path, limits: ReadLimits | None = None) -> Document:
    """Read one file; raise `DocumentError` naming the file and the reason it is unusable."""
    rel = path.relative_to(root).as_posix()
    extracted = extract(path, rel, limits or ReadLimits())
    metadata = {**extracted.metadata, **read_sidecar(path, rel)}
    body = extracted.body
    title = str(
        metadata.get("title") or _title_from(body, extracted.format) or Path(rel).stem.replace("-", " ").title()
    )
    source = str(metadata.get("source_url") or metadata.get("url") or rel)
    return Document(
        path=rel,
        format=extracted.format,
        title=title,
        body=body,
        source=source,
        metadata=metadata,
        pages=extracted.pages,
    )


def _title_from(body: str, fmt: str) -> str | None:
    """A Markdown "# Title" opening the body; plain text and PDFs: the heading line they open with."""
    if fmt in ("text", "pdf") and not body.lstrip().startswith("# "):
        return opening_heading(body)
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip()
        if stripped:
            return None
    return None


def iter_document_paths(root: Path) -> Iterator[Path]:
    """Entries under `root` in a stable order, skipping folders, hidden files and folders and sidecar
    metadata; special files (FIFOs, sockets, devices) are yielded too, for the reader to report unread."""
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel_parts) or path.is_dir() or is_sidecar(path):
            continue
        yield path


def scan_knowledge(root: Path, limits: ReadLimits | None = None) -> tuple[list[Document], list[DocumentError]]:
    """Read every document under `root`; unreadable ones are returned as errors, not raised."""
    documents: list[Document] = []
    problems: list[DocumentError] = []
    for path in iter_document_paths(root):
        try:
            documents.append(read_document(path, root, limits))
        except DocumentError as exc:
            problems.append(exc)
    return documents, problems
