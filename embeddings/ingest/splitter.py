"""Split documents into passages that follow their structure: headings, paragraphs, list items.

>>> doc = Document("a.md", "markdown", "A", "# A\\n\\nOne. Two.\\n\\n- x\\n- y\\n", "a.md")
>>> [(p.section, p.text, p.kind) for p in split_document(doc, SplitterSettings())]
[(('A',), 'One. Two.', 'paragraph'), (('A',), 'x', 'list_item'), (('A',), 'y', 'list_item')]
"""

from __future__ import annotations

import json
import re
from typing import Any

import pysbd
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field

from embeddings.ingest.blocks import Block
from embeddings.ingest.documents import Document
from embeddings.ingest.plain_text import read_plain_text
from embeddings.passage import Passage, Span, passage_id, passage_key

# The version of the rules that cut documents into passages. Bump it when a change to them can cut an
# unchanged document differently: the next `policybot index` re-splits every document (re-embedding only
# the passages that changed). 2: plain text and PDFs read by the shape of their lines (plain_text.py).
SPLIT_RULES = 2
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


def split_document(doc: Document, settings: SplitterSettings) -> list[Passage]:
    """Passages of `doc` in reading order, with stable ids from path and position.

    PDF passages never span pages and carry their page number in `metadata["page"]`.
    """
    blocks = _blocks(doc)
    segmenter = pysbd.Segmenter(language="en", clean=False)
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


def _blocks(doc: Document) -> list[Block]:
    """Markdown (and HTML, converted to Markdown) by its markup; plain text and PDFs (page by page) by
    the shape of their lines (`embeddings.ingest.plain_text`)."""
    if doc.pages:
        pages = [(page.text, page.section) for page in doc.pages]
        return read_plain_text(pages, numbers=[page.number for page in doc.pages])
    if doc.format in ("markdown", "html"):
        return _markdown_blocks(doc.body)
    return read_plain_text([(doc.body, ())])


def sentence_spans(text: str, segmenter: pysbd.Segmenter | None = None) -> tuple[Span, ...]:
    """(start, end) of each sentence in `text`, trimmed of surrounding white space.

    pysbd (clean=False) returns the sentences as written; each is found in the text after the one
    before. pysbd's own `char_span` does the same with a new regex per sentence searched from the
    start of the text: a fifth of the time of splitting a document. Should pysbd ever return a
    sentence not in the text, its own offsets are used for that text.
    """
    seg = segmenter or pysbd.Segmenter(language="en", clean=False)
    source = text.translate(_SEPARATORS_AS_SPACES)  # same length: offsets still fit `text`
    spans: list[Span] = []
    cursor = 0
    for sentence in seg.segment(source):
        piece = sentence.strip()
        if not piece:
            continue
        start = source.find(piece, cursor)
        if start < 0:
            return _spans_by_pysbd(text, source)
        cursor = start + len(piece)
        spans.append((start, cursor))
    return tuple(spans) or ((0, len(text)),)


def _spans_by_pysbd(text: str, source: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    for piece in pysbd.Segmenter(language="en", clean=False, char_span=True).segment(source):
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


def _markdown_blocks(body: str) -> list[Block]:
    tokens = MarkdownIt("commonmark").parse(body)
    headings: list[tuple[int, str]] = []
    blocks: list[Block] = []
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
                blocks.append(Block(section, text, "list_item", list_stack[-1]))
            elif text:
                blocks.append(Block(section, text, "paragraph"))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(Block(section, _clean(tok.content), "paragraph"))
        i += 1
    return blocks
