"""An answer's quotes laid out as every renderer shows them: consecutive sentences in one
paragraph, each list item (or introduced heading) on a line of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.answer import Quote, marked


@dataclass(frozen=True)
class Paragraph:
    """Quotes with their [n] markers; `bullet` for a list item."""

    text: str
    bullet: bool = False


def paragraphs(quotes: Sequence[Quote]) -> list[Paragraph]:
    """Each list item is a paragraph of its own; other quotes join the paragraph before, unless
    that is a list item.

    >>> [p.text for p in paragraphs([Quote("A.", 1), Quote("B.", 1), Quote("C", 2, list_item=True), Quote("D.", 1)])]
    ['A. [1] B. [1]', 'C [2]', 'D. [1]']
    """
    laid_out: list[Paragraph] = []
    for piece, list_item in marked(quotes):
        if list_item:
            laid_out.append(Paragraph(piece, bullet=True))
        elif laid_out and not laid_out[-1].bullet:
            laid_out[-1] = Paragraph(f"{laid_out[-1].text} {piece}")
        else:
            laid_out.append(Paragraph(piece))
    return laid_out
