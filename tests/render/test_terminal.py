"""The terminal answer: sentences run on in a paragraph, list items stand on their own lines."""

from __future__ import annotations

from bot.answering.answer import Answer, Citation, Quote
from bot.render.terminal import render_text
from embeddings.passage import Passage

PASSAGE = Passage(
    id=0,
    key="plan.md#0",
    doc="plan.md",
    title="Plan",
    section=("Goals",),
    text="The plan has two goals: x. Growth. Skills.",
    source="plan.md",
    position=0,
)


def shown(*quotes: Quote, width: int = 100) -> list[str]:
    answer = Answer("What are the goals?", quotes, (Citation(1, PASSAGE, 0.9),), abstained=False)
    return render_text(answer, width).split("\n")


def test_list_items_get_a_line_each_and_the_next_sentence_a_new_paragraph() -> None:
    lines = shown(
        Quote("The plan has two goals:", 1), Quote("Growth.", 1, True), Quote("Skills.", 1, True), Quote("x.", 1)
    )
    assert lines[:4] == ["The plan has two goals: [1]", "- Growth. [1]", "- Skills. [1]", "x. [1]"]


def test_a_long_list_item_wraps_two_spaces_in() -> None:
    lines = shown(Quote("word " * 30 + "end.", 1, list_item=True), width=40)
    assert lines[0].startswith("- word") and lines[1].startswith("  word")
