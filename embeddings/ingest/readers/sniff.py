"""Tell a file's format from its first bytes, so a misnamed file is read as what it is.

>>> sniff(b"%PDF-1.7 ...", ".txt", "a.txt")
'pdf'
>>> sniff(b"<!DOCTYPE html><html>", ".md", "a.md")
'html'
>>> sniff(b"# Title", ".md", "a.md")
'markdown'
"""

from __future__ import annotations

import re

from embeddings.errors import DocumentError

HEAD_BYTES = 8192
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED = ".md, .txt, .html or .pdf"

_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (or a .docx/.xlsx/.pptx file, which is one)",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office file (.doc/.xls/.ppt)",
    b"{\\rtf": "an RTF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "a program (ELF)",
}
_HTML_START = re.compile(
    rb"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


def sniff(head: bytes, suffix: str, rel: str) -> str:
    """'pdf', 'html', 'markdown' or 'text' from the content first, then the extension.

    Raises `DocumentError` for binary files and unknown types, saying what the file seems to be.
    """
    suffix = suffix.lower()
    if b"%PDF-" in head[:1024]:
        return "pdf"
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DocumentError(rel, f"is {what}, not a document PolicyBot reads; save it as {SUPPORTED}")
    if b"\x00" in head:
        named = f"is named {suffix} but " if suffix in HTML_SUFFIXES | PDF_SUFFIXES else ""
        raise DocumentError(rel, f"{named}contains NUL bytes; it looks like a binary file")
    if _HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")) or suffix in HTML_SUFFIXES:
        return "html"
    if suffix in PDF_SUFFIXES:
        raise DocumentError(rel, "is named .pdf but does not start with '%PDF-' (a failed download?); fetch it again")
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in TEXT_SUFFIXES:
        return "text"
    raise DocumentError(rel, f"unsupported format {suffix or '(no extension)'!r}; use {SUPPORTED}")
