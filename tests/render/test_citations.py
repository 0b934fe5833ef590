"""Citations tell a reader how to check a source: the PDF page, and how current the source is."""

from __future__ import annotations

from bot.answering.answer import Answer, Citation, Quote
from bot.render.citations import group_by_source
from bot.render.terminal import render_text
from bot.slack.blocks import source_lines
from embeddings.passage import Passage


def pdf_passage(n: int, page: int, text: str) -> Passage:
    return Passage(
        id=n,
        key=f"china/plan.pdf#{n}",
        doc="china/plan.pdf",
        title="Key Policies: China",
        section=("Made in China 2025",),
        text=text,
        source="china/plan.pdf",
        position=n,
        metadata={"publisher": "State Council", "date": "2015-05-19", "version": "2", "page": page},
    )


def answer_from(*passages: Passage) -> Answer:
    citations = tuple(Citation(i, p, 0.8) for i, p in enumerate(passages, 1))
    quotes = tuple(Quote(p.text, i) for i, p in enumerate(passages, 1))
    return Answer("What is in the plan?", quotes, citations, abstained=False)


def test_terminal_citation_shows_page_date_and_version() -> None:
    shown = render_text(answer_from(pdf_passage(0, 12, "It names ten sectors.")))
    assert "[1] Key Policies: China — Made in China 2025, p. 12\n    china/plan.pdf\n" in shown
    assert "    State Council; 2015-05-19; version 2" in shown


def test_passages_on_different_pages_are_cited_separately() -> None:
    shown = render_text(answer_from(pdf_passage(0, 2, "First."), pdf_passage(1, 3, "Second.")))
    assert "[1] Key Policies: China — Made in China 2025, p. 2" in shown
    assert "[2] Key Policies: China — Made in China 2025, p. 3" in shown


def test_slack_source_line_shows_page_publisher_and_date() -> None:
    (line,) = source_lines(answer_from(pdf_passage(0, 12, "It names ten sectors.")))
    assert line == (
        "[1] Key Policies: China — Made in China 2025, p. 12 (`china/plan.pdf`)"
        " · State Council · 2015-05-19 · version 2"
    )


def test_citations_of_one_page_share_an_entry_listed_where_first_cited() -> None:
    first, other, again = pdf_passage(0, 2, "A."), pdf_passage(1, 3, "B."), pdf_passage(2, 2, "C.")
    groups = group_by_source(answer_from(first, other, again).citations)
    assert [(g.page, g.numbers) for g in groups] == [(", p. 2", [1, 3]), (", p. 3", [2])]
