"""Answers rendered for a terminal: quotes with [n] markers, then the numbered sources."""

from __future__ import annotations

import textwrap

from bot.answering.answer import Answer
from bot.render.citations import SourceGroup, group_by_source
from bot.render.paragraphs import paragraphs

WIDTH = 100


def render_text(answer: Answer, width: int = WIDTH) -> str:
    """The answer as the REPL and `policybot ask` print it."""
    if answer.abstained:  # the message names a country as it was asked for, line breaks and all
        body = answer.text.split("\n")
    else:
        body = [f"- {p.text}" if p.bullet else p.text for p in paragraphs(answer.quotes)] or [""]
    lines = [line for paragraph in body for line in _wrap(paragraph, width)]
    if answer.reading_note:  # one line, however long: it is the question a user may want to correct
        lines.insert(0, answer.reading_note)
    lines.append("")
    lines.append("Nearest sources:" if answer.abstained else "Sources:")
    lines.extend(_source_entry(group) for group in group_by_source(answer.citations))
    return "\n".join(lines)


def render_sources(answer: Answer, width: int = WIDTH) -> str:
    """The full passages behind an answer, for `:sources` in the REPL."""
    blocks = []
    for c in answer.citations:
        body = textwrap.fill(c.passage.text, width, initial_indent="    ", subsequent_indent="    ")
        (group,) = group_by_source([c])
        blocks.append(f"{_source_entry(group)}\n    score {c.score:.2f}, passage {c.passage.key}\n{body}")
    return "\n\n".join(blocks) if blocks else "(no sources)"


def _wrap(paragraph: str, width: int) -> list[str]:
    """A paragraph's lines; a list item ("- item") continues two spaces in."""
    return textwrap.wrap(paragraph, width, subsequent_indent="  " if paragraph.startswith("- ") else "") or [""]


def _source_entry(group: SourceGroup) -> str:
    """[1] Title — Section, p. 3 / its source / publisher; date: numbers in a row of three or more as [2]–[4]."""
    numbers = group.numbers
    consecutive = len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1))
    marks = f"[{numbers[0]}]–[{numbers[-1]}]" if consecutive else "".join(f"[{n}]" for n in numbers)
    lines = [f"{marks} {group.title} — {group.section}{group.page}", f"    {group.source}"]
    if group.details:
        lines.append(f"    {'; '.join(group.details)}")
    return "\n".join(lines)
