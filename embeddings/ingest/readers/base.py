"""What every reader returns, and the limits that keep reading bounded in time and memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MB = 2**20


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one document: bigger, longer or slower ones are skipped with a reason."""

    max_bytes: int = 50 * MB  # files larger than this are skipped without being read
    max_pages: int = 2000  # PDFs with more pages are skipped
    max_seconds: float = 60.0  # PDF text extraction stops (and the file is skipped) after this


@dataclass(frozen=True)
class Page:
    """One PDF page's text, its 1-based number and the outline (bookmark) path it falls under."""

    number: int
    text: str
    section: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extracted:
    """A reader's result: the format, the text to split, metadata found in the file, PDF pages."""

    format: str  # "markdown", "text", "html" (body is Markdown) or "pdf" (text per page)
    body: str
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: tuple[Page, ...] = ()
