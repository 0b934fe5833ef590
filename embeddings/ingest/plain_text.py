"""Plain text as people paste it (from a web page, out of a PDF): headings, paragraphs and lists
read from the shape of its lines, since it has no markup. A *block* is a run of lines between blank lines.

- **List item**: a line opening with a bullet (• ◦ ▪ ‣ · ● ○ ■ □ ► – - * +) or a number or letter
  ("1.", "1)", "a)", "(a)", "(i)", "(1)"), then a space. Items in a row, blank lines between them or
  not, are one list; the paragraph just before it, when it ends with ":", is its lead-in (the same
  `list_id`), as for Markdown; after a blank line, items with another kind of marker (bullet,
  number, letter) start another list. A line under an item that is not one continues it (a wrapped item)
  when it is indented deeper than the bullet, starts in lower case, or follows an item that does not
  end a sentence (. ! ?) and is not a heading; otherwise it ends the list.
- **Heading**: a line of at most 10 words that
  1. starts with a capital or a digit, does not end with . , ; : ! ? - or a joining word (and,
     of, the, to...), and is neither a page number ("Page 3 of 12") nor a dateline holding a date
     ("Published 12 May 2023");
  2. has text after it (a last line stays text), and the line right under it, if in its block, does
     not start in lower case (that would be a sentence wrapped over two lines);
  3. stands apart from the line above it: it opens its block (blank line or start above), or the
     line above ends a sentence, is a list item or a heading, and does not end on a joining word;
  4. when it does not open its block (no blank line above, as PDFs give), is also title-cased or in
     capitals ("Funding", "Made in China 2025", "KEY FACTS"), or at most half as long as the block's
     longest line when that one is of prose width (60 characters or more).
  So "Key recommendations:" stays the lead-in of its list, "The fund closed in 2021." stays a
  sentence, and a heading is never glued to the sentence after it.
  Headings are not passages: they become the section of the passages under them. The heading the
  document opens with stays at the top of the path (it is the title), headings in a row nest, and a
  heading after text replaces every heading under the title. PDF pages start again under each new
  outline (bookmark) section.
- **Paragraph**: the other lines of a block, joined.

>>> text = "Funding\\nIt has two aims:\\n• to grow\\n• to cut"
>>> [(b.section, b.kind, b.text, b.list_id) for b in read_plain_text([(text, ())])]  # doctest: +NORMALIZE_WHITESPACE
[(('Funding',), 'paragraph', 'It has two aims:', 'list1'), (('Funding',), 'list_item', 'to grow', 'list1'),
 (('Funding',), 'list_item', 'to cut', 'list1')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from embeddings.ingest.blocks import Block

MAX_HEADING_WORDS = 10
PROSE_WIDTH = 60  # characters: a block whose longest line is this long is wrapped prose

_ITEM = re.compile(
    r"^\s*(?:[•◦▪‣·●○■□►–*+\-\uf0b7\uf0a7]"  # bullets (U+F0B7, U+F0A7: Symbol-font bullets from PDFs)
    r"|\d{1,3}[.)]|(?:[a-zA-Z]|[ivxlcdm]{2,6})\)|\((?:\d{1,3}|[a-zA-Z]|[ivxlcdm]{2,6})\))"  # 1. 1) a) iv) (a) (iv)
    r"(?:\s+|$)"
)
_CLOSERS = "\"'”’)]"  # may follow a sentence's last mark
_ENDS_SENTENCE = re.compile(rf"[.!?…][{re.escape(_CLOSERS)}]*$")
_ENDS_UNFINISHED = re.compile(rf"(?:[.,;:!?…][{re.escape(_CLOSERS)}]*|[-–—/&])$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?$", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(rf"\b(?:{_DAY}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+{_DAY},?\s+\d{{4}})\b", re.IGNORECASE)  # 3 May 2023
_JOINING = frozenset(  # words a heading does not end on, and a line wrapped mid-sentence often does
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of", "on", "onto", "or"}
    | {"per", "than", "that", "the", "to", "via", "vs", "with"}
)
_WS = re.compile(r"[ \t\r\f\v]+")  # as the Markdown splitter: other spaces are kept


@dataclass
class _Line:
    raw: str
    page: int  # index into the pages given
    opens_block: bool
    block_width: int  # length of the block's longest line
    kind: str = "paragraph"  # "paragraph", "item", "continuation" or "heading"


def read_plain_text(pages: Sequence[tuple[str, tuple[str, ...]]], numbers: Sequence[int] | None = None) -> list[Block]:
    """Blocks of plain text given as pages of (text, outline section); one page for a text file.

    `numbers` are the PDF page numbers: each block records its own, and list ids name the page a
    list starts on ("p2-list1"); without them list ids are "list1", "list2"...
    """
    lines = _classify(_lines(pages))
    return _assemble(lines, pages, numbers)


def opening_heading(text: str) -> str | None:
    """The heading `text` opens with, by the rules above (the title of a plain-text document), or None."""
    lines = _classify(_lines([(text, ())]))
    return _clean(lines[0].raw) if lines and lines[0].kind == "heading" else None


def _lines(pages: Sequence[tuple[str, tuple[str, ...]]]) -> list[_Line]:
    out: list[_Line] = []
    for index, (text, _) in enumerate(pages):
        for block in re.split(r"\n[ \t\r\f\v]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
            rows = [row for row in block.split("\n") if row.strip()]
            width = max((len(row.strip()) for row in rows), default=0)
            out.extend(_Line(row, index, i == 0, width) for i, row in enumerate(rows))
    return out


def _classify(lines: list[_Line]) -> list[_Line]:
    """Set each line's kind, top to bottom (a line's kind depends on the one above)."""
    item_indent: int | None = None  # indentation of the item being read, None when not in one
    item_text = ""
    for i, line in enumerate(lines):
        if line.opens_block:
            item_indent = None
        if _ITEM.match(line.raw):
            line.kind = "item"
            item_indent, item_text = _indent(line.raw), _ITEM.sub("", line.raw, count=1).strip()
        elif item_indent is not None and _continues(item_text, item_indent, lines, i):
            line.kind = "continuation"
            item_text = f"{item_text} {line.raw.strip()}".strip()
        else:
            item_indent = None
            line.kind = "heading" if _is_heading(lines, i) else "paragraph"
    for line in reversed(lines):  # headings with nothing under them are text
        if line.kind != "heading":
            break
        line.kind = "paragraph"
    return lines


def _continues(item_text: str, item_indent: int, lines: list[_Line], i: int) -> bool:
    """Whether line `i`, under a list item, carries on that item (the item wraps onto it)."""
    line = lines[i]
    text = line.raw.strip()
    if _indent(line.raw) > item_indent or not item_text or text[0].islower():
        return True
    return not _ENDS_SENTENCE.search(item_text) and not _is_heading(lines, i)


def _is_heading(lines: list[_Line], i: int) -> bool:
    """Rules 1-4 of the module docstring for line `i`."""
    line = lines[i]
    text = _clean(line.raw)
    words = text.split(" ")
    if (
        len(words) > MAX_HEADING_WORDS
        or not (text[0].isupper() or text[0].isdigit())
        or _ENDS_UNFINISHED.search(text)
        or words[-1].lower() in _JOINING
        or not any(c.isalpha() for c in text)
        or _PAGE_NUMBER.match(text)
        or _DATE.search(text)
    ):
        return False
    below = lines[i + 1] if i + 1 < len(lines) else None
    if below is None:
        return False
    if not below.opens_block and below.raw.strip()[0].islower():
        return False
    if line.opens_block:
        return True
    above = lines[i - 1]
    above_text = _clean(above.raw)
    if above_text.split(" ")[-1].lower() in _JOINING:
        return False
    if not (above.kind in ("item", "continuation", "heading") or _ENDS_SENTENCE.search(above_text)):
        return False
    return _title_like(words) or (line.block_width >= PROSE_WIDTH and len(text) * 2 <= line.block_width)


def _title_like(words: list[str]) -> bool:
    """Title case ("Made in China 2025") or capitals ("KEY FACTS")."""
    letters = [c for word in words for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    for word in words:
        first = next((c for c in word if c.isalpha()), None)
        if first is not None and first.islower() and word.lower().strip(_CLOSERS + "(,") not in _JOINING:
            return False
    return True


def _assemble(
    lines: list[_Line], pages: Sequence[tuple[str, tuple[str, ...]]], numbers: Sequence[int] | None
) -> list[Block]:
    """Blocks from classified lines: paragraphs joined, items with their continuations, headings as sections."""
    blocks: list[Block] = []
    path: list[str] = []
    root: str | None = None  # the heading the document opens with
    after_heading = False
    outline: tuple[str, ...] | None = None
    list_count = 0
    list_id: str | None = None  # of the list being read
    list_family = ""  # its kind of marker
    current: Block | None = None  # the paragraph or item lines are being added to
    for line in lines:
        page_section = pages[line.page][1]
        if page_section != outline:
            if outline is not None and page_section:  # a new outline section: its own headings
                path, root = [], None
            outline = page_section
        number = numbers[line.page] if numbers is not None else None
        text = _clean(line.raw)
        if line.opens_block:
            current = None
        if line.kind == "heading":
            if root is None and not blocks and not path:
                root = text
                path = [text]
            elif after_heading:
                path.append(text)
            else:
                path = [root, text] if root else [text]
            after_heading, current, list_id = True, None, None
            continue
        section = (*outline, *path)
        if line.kind == "item":
            family = _family(line.raw)
            if list_id is not None and line.opens_block and family != list_family:
                list_id = None  # "(i)" items after a blank line under "•" items: another list
            list_family = family
            if list_id is None:
                list_count += 1
                list_id = f"p{number}-list{list_count}" if number is not None else f"list{list_count}"
                lead = blocks[-1] if blocks and not after_heading else None
                if lead is not None and lead.kind == "paragraph" and lead.text.endswith(":") and not lead.list_id:
                    lead.list_id = list_id
            current = Block(section, _clean(_ITEM.sub("", line.raw, count=1)), "list_item", list_id, number)
            blocks.append(current)
        elif line.kind == "continuation" and current is not None:
            current.text = f"{current.text} {text}".strip()
        elif current is not None and current.kind == "paragraph":
            current.text = f"{current.text} {text}"
        else:
            list_id = None
            current = Block(section, text, "paragraph", None, number)
            blocks.append(current)
        after_heading = False
    return [block for block in blocks if block.text]


def _family(raw: str) -> str:
    """The kind of marker an item line opens with: "number", "letter" (or roman numeral) or "bullet"."""
    marker = raw.strip()[:1] if raw.strip()[:1] != "(" else raw.strip()[1:2]
    return "number" if marker.isdigit() else "letter" if marker.isalpha() else "bullet"


def _indent(raw: str) -> int:
    return len(raw) - len(raw.lstrip())


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()
