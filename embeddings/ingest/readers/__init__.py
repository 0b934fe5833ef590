"""Readers: one per format, chosen by the file's content (then its extension).

`extract(path, rel, limits)` checks the size before reading, sniffs the first bytes and hands
the file to the Markdown, text, HTML or PDF reader; an unusable file raises `DocumentError`
with its path and the reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from embeddings.errors import DocumentError
from embeddings.ingest.readers.base import MB, Extracted, Page, ReadLimits
from embeddings.ingest.readers.sidecar import is_sidecar, read_sidecar, sidecar_path
from embeddings.ingest.readers.sniff import HEAD_BYTES, sniff

__all__ = ["Extracted", "Page", "ReadLimits", "extract", "is_sidecar", "read_sidecar", "sidecar_path"]


_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _require_regular(mode: int, rel: str) -> None:
    """Raise `DocumentError` unless `mode` is a regular file's, saying what it is instead."""
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in _SPECIAL if test(mode)), "not a regular file")
    raise DocumentError(rel, f"is {what}, not a document, and was not opened (move it out of the knowledge folder)")


def extract(path: Path, rel: str, limits: ReadLimits) -> Extracted:
    """Read `path` (shown to the user as `rel`) with the reader its content calls for."""
    try:
        _require_regular(path.stat().st_mode, rel)  # a FIFO or device is never opened
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise DocumentError(
                rel, f"is {size / MB:.0f} MB, over the {limits.max_bytes / MB:g} MB limit (ingest.max_file_mb)"
            )
        # O_NONBLOCK: a file swapped for a FIFO since the check cannot block indexing either
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            _require_regular(os.fstat(handle.fileno()).st_mode, rel)
            raw = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise DocumentError(rel, f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > limits.max_bytes:  # grew while we looked, or a special file
        raise DocumentError(rel, f"is over the {limits.max_bytes / MB:g} MB limit (ingest.max_file_mb)")
    if not raw.strip():
        raise DocumentError(rel, "is empty")
    kind = sniff(raw[:HEAD_BYTES], path.suffix, rel)
    if kind == "pdf":
        from embeddings.ingest.readers.pdf import read_pdf  # pypdf only when there is a PDF

        return read_pdf(raw, rel, limits)
    if kind == "html":
        from embeddings.ingest.readers.html import read_html  # trafilatura only when there is a page

        return read_html(raw, rel)
    from embeddings.ingest.readers.text import read_markdown, read_text

    return read_markdown(raw, rel) if kind == "markdown" else read_text(raw, rel)
