"""Split documents into passages that follow their structure: headings, paragraphs, list items.

>>> doc = Document("a.md", "markdown", "A", "# A\\n\\nOne. Two.\\n\\n- x\\n- y\\n", "a.md")
>>> [(p.section, p.text, p.kind) for p in split_document(doc, SplitterSettings())]
[(('A',), 'One. Two.', 'paragraph'), (('A',), 'x', 'list_item'), (('A',), 'y', 'list_item')]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pysbd
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field

from embeddings.ingest.documents import Document
from embeddings.passage import Passage, Span, passage_id, passage_key

_BULLET = re.compile(r"^\s*(?:[-*+•▪◦‣–]|\d{1,3}[.)])\s+")
_WS = re.compile(r"[ \t\r\f\v]+")
# pysbd crashes (int('\x1f1')) on the ASCII separators U+001C..U+001F before a digit: it sees them as \s.
_SEPARATORS_AS_SPACES = {code: " " for code in range(0x1C, 0x20)}


class SplitterSettings(BaseModel):
    """How documents are cut (config.yaml `splitter:`); recorded in the index so a change forces a rebuild."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_chars: int = Field(1200, ge=100, le=20000, description="longest passage, in characters")
    min_chars: int = Field(1, ge=1, le=1000, description="shorter blocks are dropped")

    def fingerprint(self) -> str:
        """The settings as one text, part of every passage's content hash."""
        return json.dumps(self.model_dump(), sort_keys=True)


@dataclass
class _Block:
    section: tuple[str, ...]
    text: str
    kind: str
    list_id: str | None = None
    page: int | None = None  # PDFs: 1-based page number


def split_document(doc: Document, settings: SplitterSettings) -> list[Passage]:
    """Passages of `doc` in reading order, with stable ids from path and position.

    PDF passages never span pages and carry their page number in `metadata["page"]`.
    """
    blocks = _blocks(doc)
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    passages: list[Passage] = []
    for block in blocks:
        for text in _fit(block.text, settings.max_chars, segmenter):
            if len(text) < settings.min_chars:
                continue
            key = passage_key(doc.path, len(passages))
            passages.append(
                Passage(
                    id=passage_id(key),
                    key=key,
                    doc=doc.path,
                    title=doc.title,
                    section=block.section,
                    text=text,
                    source=doc.source,
                    position=len(passages),
                    kind=block.kind,
                    list_id=f"{doc.path}#{block.list_id}" if block.list_id else None,
                    sentences=sentence_spans(text, segmenter),
                    metadata=_public_metadata(doc.metadata, block.page),
                )
            )
    return passages


def _blocks(doc: Document) -> list[_Block]:
    """Markdown (and HTML, converted to Markdown) by structure; PDFs page by page; text by paragraphs."""
    if doc.pages:
        blocks: list[_Block] = []
        for page in doc.pages:
            for block in _text_blocks(page.text):
                block.section = page.section
                block.page = page.number
                block.list_id = f"p{page.number}-{block.list_id}" if block.list_id else None
                blocks.append(block)
        return blocks
    if doc.format in ("markdown", "html"):
        return _markdown_blocks(doc.body)
    return _text_blocks(doc.body)


def sentence_spans(text: str, segmenter: pysbd.Segmenter | None = None) -> tuple[Span, ...]:
    """(start, end) of each sentence in `text`, trimmed of surrounding white space."""
    seg = segmenter or pysbd.Segmenter(language="en", clean=False, char_span=True)
    spans: list[Span] = []
    for piece in seg.segment(text.translate(_SEPARATORS_AS_SPACES)):  # same length: offsets still fit `text`
        start, end = piece.start, piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return tuple(spans) or ((0, len(text)),)


def _public_metadata(metadata: dict[str, Any], page: int | None = None) -> dict[str, Any]:
    """What citations and filters need: publisher, country, date, version... and the PDF page."""
    keep = ("publisher", "author", "country", "date", "version", "site")
    public: dict[str, Any] = {k: str(metadata[k]) for k in keep if metadata.get(k) not in (None, "")}
    if page is not None:
        public["page"] = page
    return public


def _fit(text: str, max_chars: int, segmenter: pysbd.Segmenter) -> list[str]:
    """`text` as is when short enough, else consecutive sentences packed up to `max_chars`."""
    if len(text) <= max_chars:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for start, end in sentence_spans(text, segmenter):
        sentence = text[start:end]
        if current and len(current) + 1 + len(sentence) > max_chars:
            chunks.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    if current:
        chunks.append(current)
    return chunks


def _clean(text: str) -> str:
    return "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n")).strip().replace("\n", " ")


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return _clean("".join(parts))


def _markdown_blocks(body: str) -> list[_Block]:
    tokens = MarkdownIt("commonmark").parse(body)
    headings: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    list_depth = 0
    list_count = 0
    list_stack: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        section = tuple(text for _, text in headings)
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            title = _inline_text(tokens[i + 1])
            headings = [(lvl, text) for lvl, text in headings if lvl < level] + [(level, title)]
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
            list_count += 1
            list_stack.append(f"list{list_count}")
            if list_depth == 1 and blocks and blocks[-1].kind == "paragraph" and blocks[-1].text.endswith(":"):
                blocks[-1].list_id = list_stack[-1]
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            list_stack.pop()
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            text = _inline_text(tok)
            if text and list_stack:
                blocks.append(_Block(section, text, "list_item", list_stack[-1]))
            elif text:
                blocks.append(_Block(section, text, "paragraph"))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(_Block(section, _clean(tok.content), "paragraph"))
        i += 1
    return blocks


def _text_blocks(body: str) -> list[_Block]:
    """Plain text: blank lines separate paragraphs; bullet or numbered lines form lists."""
    blocks: list[_Block] = []
    list_count = 0
    in_list = False
    for para in re.split(r"\n\s*\n", body.replace("\r\n", "\n")):
        lines = [line for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        pending: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                _flush_paragraph(pending, blocks)
                if not in_list:
                    list_count += 1
                    in_list = True
                    if blocks and blocks[-1].kind == "paragraph" and blocks[-1].text.endswith(":"):
                        blocks[-1].list_id = f"list{list_count}"
                blocks.append(_Block((), _clean(_BULLET.sub("", line, count=1)), "list_item", f"list{list_count}"))
            elif in_list and blocks and line.startswith((" ", "\t")):
                blocks[-1].text = _clean(f"{blocks[-1].text} {line}")
            else:
                in_list = False
                pending.append(line)
        _flush_paragraph(pending, blocks)
    return [b for b in blocks if b.text]


def _flush_paragraph(lines: list[str], blocks: list[_Block]) -> None:
    """Turn the collected plain-text lines into one paragraph block."""
    if lines:
        blocks.append(_Block((), _clean(" ".join(lines)), "paragraph"))
        lines.clear()
