"""What every reader returns, and the limits that keep reading bounded in time and memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MB = 2**20


class ReadLimits(BaseModel):
    """Bounds on one document (config.yaml `ingest:`): bigger, longer or slower ones are skipped with a reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_mb: float = Field(50, gt=0, le=10_000, description="larger documents are skipped unread (MB)")
    max_pdf_pages: int = Field(2000, ge=1, le=100_000, description="PDFs with more pages are skipped")
    max_read_seconds: float = Field(60, gt=0, le=3600, description="PDF text extraction time budget (seconds)")

    @property
    def max_bytes(self) -> int:
        """`max_file_mb` in bytes: files larger than this are skipped without being read."""
        return int(self.max_file_mb * MB)


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
