"""Plain text and Markdown: UTF-8 text, Markdown optionally opened by YAML front matter."""

from __future__ import annotations

import re
from typing import Any

import yaml

from embeddings.errors import DocumentError
from embeddings.ingest.readers.base import Extracted


def decode_text(raw: bytes, rel: str) -> str:
    """`raw` as UTF-8 text (a BOM is dropped); raise if it is not text or holds nothing."""
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
    return text


def read_text(raw: bytes, rel: str) -> Extracted:
    """A plain-text document: blank lines separate paragraphs."""
    return Extracted("text", decode_text(raw, rel))


def read_markdown(raw: bytes, rel: str) -> Extracted:
    """A Markdown document; its front matter becomes metadata."""
    metadata, body = split_front_matter(rel, decode_text(raw, rel))
    if not body.strip():
        raise DocumentError(rel, "has front matter but no text")
    return Extracted("markdown", body, metadata)


class TextDatesLoader(yaml.SafeLoader):
    """yaml.SafeLoader that keeps dates as written: metadata is text, so `date: 2023-02-30` is the
    text "2023-02-30", not a failure to build an impossible date (nor a date object elsewhere)."""


TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)


def split_front_matter(rel: str, text: str) -> tuple[dict[str, Any], str]:
    """({key: value}, body) of a text that may open with a `---` YAML block."""
    if not text.startswith("---"):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise DocumentError(rel, "broken front matter: the closing '---' line is missing")
    try:
        metadata = yaml.load(match.group(1), Loader=TextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(rel, f"broken front matter{where}: {problem}") from exc
    except (ValueError, RecursionError) as exc:  # e.g. brackets nested thousands deep
        raise DocumentError(rel, f"broken front matter: a value YAML cannot read ({exc})") from exc
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise DocumentError(rel, "broken front matter: expected 'key: value' lines")
    return {str(k): v for k, v in metadata.items()}, text[match.end() :]
