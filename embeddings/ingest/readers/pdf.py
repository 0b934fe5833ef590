"""PDF: text per page (pypdf), sections from the outline (bookmarks), metadata from the info dict.

Bounded: a page cap, a time budget, and pypdf's own limits on decompressed streams, so a
compression bomb is refused instead of filling memory.
"""

from __future__ import annotations

import io
import logging
import re
import time
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PyPdfError

from embeddings.errors import DocumentError
from embeddings.ingest.readers.base import Extracted, Page, ReadLimits

log = logging.getLogger(__name__)

_HYPHEN_BREAK = re.compile(r"(\w)-\n(?=[a-z])")
_BOMB = "a stream inflates past pypdf's safety limit"
_INFO_KEYS = {"/Title": "title", "/Author": "author", "/Subject": "subject"}


def read_pdf(raw: bytes, rel: str, limits: ReadLimits) -> Extracted:
    """Each page's text with its number; a PDF without any text layer is refused."""
    if b"%%EOF" not in raw[-1024:]:
        raise DocumentError(rel, "is a truncated PDF (no %%EOF marker at its end); download or copy it again")
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(rel, "is a password-protected PDF; save an unprotected copy")
        count = len(reader.pages)
    except LimitReachedError as exc:
        raise DocumentError(rel, f"looks like a compression bomb ({_BOMB}); not read") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError(rel, f"is a damaged PDF ({exc}); open and re-save it, or fetch it again") from exc
    if count > limits.max_pdf_pages:
        raise DocumentError(rel, f"has {count} pages, over the limit of {limits.max_pdf_pages} (ingest.max_pdf_pages)")
    sections = _outline_sections(reader, count)
    deadline = time.monotonic() + limits.max_read_seconds
    pages: list[Page] = []
    for number in range(1, count + 1):
        if time.monotonic() > deadline:
            raise DocumentError(
                rel,
                f"took over {limits.max_read_seconds:g}s to read (stopped at page {number} of {count}); not indexed",
            )
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except LimitReachedError as exc:
            raise DocumentError(rel, f"looks like a compression bomb (page {number}: {_BOMB}); not read") from exc
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise DocumentError(rel, f"is a damaged PDF (page {number}: {exc}); open and re-save it") from exc
        section = sections.get(number, ())
        text = _without_heading_lines(_HYPHEN_BREAK.sub(r"\1", text), section)
        if text:
            pages.append(Page(number, text, section))
    if not pages:
        raise DocumentError(rel, "has no text layer (scanned?); run OCR on it (e.g. ocrmypdf) and add the result")
    return Extracted("pdf", "\n\n".join(p.text for p in pages), _info(reader), tuple(pages))


def _without_heading_lines(text: str, section: tuple[str, ...]) -> str:
    """The page text minus lines that only repeat its outline headings (they become the section)."""
    headings = {" ".join(h.split()).lower() for h in section}
    kept = [line for line in text.split("\n") if " ".join(line.split()).lower() not in headings]
    return "\n".join(kept).strip()


def _info(reader: PdfReader) -> dict[str, Any]:
    """Title and author from the PDF's document information, when set."""
    try:
        info: Any = reader.metadata or {}
        return {key: str(info[name]).strip() for name, key in _INFO_KEYS.items() if str(info.get(name) or "").strip()}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("PDF metadata unreadable: %s", exc)
        return {}


def _outline_sections(reader: PdfReader, count: int) -> dict[int, tuple[str, ...]]:
    """Page number -> outline path of the last bookmark starting on or before that page."""
    starts: list[tuple[int, int, tuple[str, ...]]] = []  # (first page, outline order, path)

    def walk(items: list[Any], path: tuple[str, ...]) -> None:
        last: tuple[str, ...] = path
        for item in items:
            if isinstance(item, list):
                walk(item, last)
                continue
            title = " ".join(str(item.title or "").split())
            page = reader.get_destination_page_number(item)
            if not title or page is None or page < 0:
                continue
            last = (*path, title)
            starts.append((page + 1, len(starts), last))

    try:
        walk(reader.outline, ())
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.info("PDF outline unreadable, pages get no sections: %s", exc)
        return {}
    sections: dict[int, tuple[str, ...]] = {}
    current: tuple[str, ...] = ()
    by_page = sorted(starts)
    i = 0
    for number in range(1, count + 1):
        while i < len(by_page) and by_page[i][0] <= number:
            current = by_page[i][2]
            i += 1
        if current:
            sections[number] = current
    return sections
