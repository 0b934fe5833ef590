"""Web pages: the main text as Markdown (headings, lists), without navigation, headers,
footers or cookie banners (trafilatura), and metadata from the page's meta tags."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from embeddings.errors import DocumentError
from embeddings.ingest.readers.base import Extracted
from embeddings.ingest.readers.real_text import no_real_text

# Meta tags read, in order of preference (names lowercased; `property` or `name`).
META_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("citation_title", "dc.title", "dcterms.title", "og:title"),
    "publisher": ("citation_publisher", "dc.publisher", "dcterms.publisher"),
    "author": ("citation_author", "dc.creator", "author"),
    "date": (
        "citation_publication_date",
        "citation_date",
        "dcterms.issued",
        "dc.date",
        "dcterms.date",
        "article:published_time",
    ),
    "version": ("citation_version", "version"),
    "site": ("og:site_name",),
    "source_url": ("og:url",),
}
_ISO_DATE = re.compile(r"\A(\d{4}-\d{2}-\d{2})[T ]")


def read_html(raw: bytes, rel: str) -> Extracted:
    """A saved web page: main text as Markdown, so the splitter keeps its sections and lists."""
    try:
        tree = lxml.html.document_fromstring(raw)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(rel, f"is not a readable HTML page ({exc})") from exc
    metadata = page_metadata(tree)  # before extraction, which prunes the tree
    body = trafilatura.extract(
        tree,
        output_format="markdown",
        include_formatting=True,  # keeps headings as '#' lines
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
    )
    if not body or not body.strip():
        raise DocumentError(rel, "holds no main text (only navigation, or a page that needs JavaScript?)")
    if reason := no_real_text(body, metadata.get("title")):
        named = "is named .pdf but is a web page that " if rel.lower().endswith(".pdf") else ""
        raise DocumentError(rel, named + reason)
    return Extracted("html", body, metadata)


def page_metadata(tree: Any) -> dict[str, Any]:
    """Title, publisher, date, version, site and canonical URL from <meta>, <link> and <title>."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if name and content:
            found.setdefault(name, content)
    metadata: dict[str, Any] = {}
    for key, names in META_KEYS.items():
        value = next((found[n] for n in names if n in found), None)
        if value:
            metadata[key] = value
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    if canonical and str(canonical[0]).startswith(("http://", "https://")):
        metadata["source_url"] = str(canonical[0]).strip()
    if "title" not in metadata:
        title = tree.findtext(".//title")
        if title and title.strip():
            metadata["title"] = " ".join(title.split())
    if "date" in metadata and (m := _ISO_DATE.match(metadata["date"])):
        metadata["date"] = m.group(1)
    return metadata
