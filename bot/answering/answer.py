"""What the answerer returns: quotes, the sources they cite, or an abstention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from embeddings.passage import Passage


@dataclass(frozen=True)
class Citation:
    """A numbered source: the passage quoted (or, when abstaining, a near one)."""

    number: int
    passage: Passage
    score: float


@dataclass(frozen=True)
class Quote:
    """A sentence copied verbatim from the passage of citation `citation`, or (`heading`) the
    heading of its section, when a quoted sentence introduces the sections below it."""

    text: str
    citation: int
    list_item: bool = False
    heading: bool = False
    context: bool = False  # quoted after the sentence that refers to it ("It ..."), to read it by


def marked(quotes: Sequence[Quote]) -> list[tuple[str, bool]]:
    """Each quote with its [n] marker, and whether it is a list item; a run of context quotes is
    set in parentheses after the sentence that leans on it: 'It was set up in 2011. [1] (context:
    The Catapults are ... [1])'."""
    pieces: list[tuple[str, bool]] = []
    for k, quote in enumerate(quotes):
        piece = f"{quote.text} [{quote.citation}]"
        if quote.context and not (k and quotes[k - 1].context):
            piece = "(context: " + piece
        if quote.context and not (k + 1 < len(quotes) and quotes[k + 1].context):
            piece += ")"
        pieces.append((piece, quote.list_item))
    return pieces


@dataclass(frozen=True)
class Answer:
    """An extractive answer, or an abstention that lists the nearest sources."""

    question: str
    quotes: tuple[Quote, ...]
    citations: tuple[Citation, ...]
    abstained: bool
    reason: str = ""
    index_version: str = ""
    answerability: float = 0.0  # the learned chance that the knowledge base answers the question
    interpreted_question: str = ""  # the question searched, when the conversation changed it ("" = as asked)

    @property
    def read_as(self) -> str:
        """The question as it was searched: its rewrite in context, else the question itself."""
        return self.interpreted_question or self.question

    @property
    def reading_note(self) -> str:
        """The line every front end shows above an answer whose question the conversation changed, or ""."""
        return f"Reading this as: {self.interpreted_question}" if self.interpreted_question else ""

    @property
    def text(self) -> str:
        """The answer as plain text with [n] markers; list items on their own lines."""
        if self.abstained:
            return f"The knowledge base does not cover this question ({self.reason})."
        parts: list[str] = []
        for piece, list_item in marked(self.quotes):
            if list_item:
                parts.append(f"\n- {piece}")
            else:
                parts.append(("\n" if parts and parts[-1].startswith("\n- ") else " ") + piece)
        return "".join(parts).strip()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form for `ask --json` and logs."""
        return {
            "question": self.question,
            "interpreted_question": self.read_as,
            "answer": self.text,
            "abstained": self.abstained,
            "reason": self.reason,
            "index_version": self.index_version,
            "answerability": round(self.answerability, 4),
            "quotes": [
                {"text": q.text, "citation": q.citation, "heading": q.heading, "context": q.context}
                for q in self.quotes
            ],
            "sources": [
                {
                    "number": c.number,
                    "passage_id": c.passage.key,
                    "title": c.passage.title,
                    "section": c.passage.section_label,
                    "source": c.passage.source,
                    "score": round(c.score, 4),
                    "text": c.passage.text,
                }
                for c in self.citations
            ],
        }
