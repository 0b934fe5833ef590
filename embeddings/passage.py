"""The searchable unit: a passage of a document, with where it came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph or list item of a document, with its heading path and sentence spans.

    `sentences` are (start, end) offsets into `text`, so any sentence quoted from a passage
    is a verbatim slice of it. Slots, no per-object dict: a replica holds a million of them.
    Passages read from an index share their strings, headings and `metadata` dicts (read-only).
    """

    id: int  # int64, stable: derived from `key`
    key: str  # "<document path>#<position>"
    doc: str  # document path relative to the knowledge folder
    title: str  # document title
    section: tuple[str, ...]  # heading path, outermost first
    text: str
    source: str  # URL or path a reader can follow
    position: int  # order of the passage within its document
    kind: str = "paragraph"  # "paragraph" or "list_item"
    list_id: str | None = None  # shared by a list's items and the paragraph introducing it
    sentences: tuple[Span, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def sentence_texts(self) -> list[str]:
        """The passage's sentences, each a verbatim slice of `text`."""
        return [self.text[start:end] for start, end in self.sentences]

    def context_text(self) -> str:
        """What gets embedded: the heading path as context, then the text."""
        path = " > ".join((self.title, *self.section))
        return f"{path}\n{self.text}"

    @property
    def section_label(self) -> str:
        """The heading path, without a top heading that only repeats the document title."""
        path = self.section
        if path and self.title.lower().startswith(path[0].lower()):
            path = path[1:]
        return " > ".join(path) if path else self.title


def passage_key(doc_path: str, position: int) -> str:
    return f"{doc_path}#{position}"


def passage_id(key: str) -> int:
    """A stable, non-negative int64 id for FAISS, derived from the passage key."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def content_hash(passage: Passage, model: str, settings_fingerprint: str) -> str:
    """Changes whenever re-embedding the passage would give a different vector."""
    parts = [model, settings_fingerprint, passage.title, *passage.section, "\x00", passage.text]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
