"""A block of a document before it becomes passages: a paragraph or list item under its headings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Block:
    """One paragraph or list item; `list_id` is shared by a list's items and the paragraph introducing it."""

    section: tuple[str, ...]
    text: str
    kind: str  # "paragraph" or "list_item"
    list_id: str | None = None
    page: int | None = None  # PDFs: 1-based page number
