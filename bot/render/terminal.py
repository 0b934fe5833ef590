"""Answers rendered for a terminal: quotes with [n] markers, then the numbered sources."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from bot.answering.answer import Answer, Citation

WIDTH = 100


def render_text(answer: Answer, width: int = WIDTH) -> str:
    """The answer as the REPL and `policybot ask` print it."""
    lines: list[str] = []
    for paragraph in answer.text.split("\n"):
        indent = "  " if paragraph.startswith("- ") else ""
        lines.extend(textwrap.wrap(paragraph, width, subsequent_indent=indent) or [""])
    lines.append("")
    lines.append("Nearest sources:" if answer.abstained else "Sources:")
    lines.extend(render_citations(answer.citations))
    return "\n".join(lines)


def render_citation(citation: Citation) -> str:
    return _source_lines([citation.number], citation)


def _source_lines(numbers: list[int], citation: Citation) -> str:
    p = citation.passage
    consecutive = len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1))
    marks = f"[{numbers[0]}]–[{numbers[-1]}]" if consecutive else "".join(f"[{n}]" for n in numbers)
    details = "; ".join(source_details(p.metadata))
    lines = [f"{marks} {p.title} — {p.section_label}{page_suffix(p.metadata)}", f"    {p.source}"]
    if details:
        lines.append(f"    {details}")
    return "\n".join(lines)


def page_suffix(metadata: Mapping[str, object]) -> str:
    """The page of a PDF passage, as in "Title — Section, p. 12"; "" for other formats."""
    page = metadata.get("page")
    return f", p. {page}" if page else ""


def source_details(metadata: Mapping[str, object]) -> list[str]:
    """Who published a source and how current it is: ["CSTI", "2012-02-22", "version 2"]."""
    details = [str(metadata.get("publisher") or metadata.get("author") or "")]
    details.append(str(metadata.get("date") or ""))
    if metadata.get("version"):
        details.append(f"version {metadata['version']}")
    return [d for d in details if d]


def render_citations(citations: Sequence[Citation]) -> list[str]:
    """One entry per source section (and PDF page); passages of one section share it: [2][3] Title — Section."""
    grouped: dict[tuple[str, str, str, str], list[Citation]] = {}
    for c in citations:
        key = (c.passage.title, c.passage.section_label, page_suffix(c.passage.metadata), c.passage.source)
        grouped.setdefault(key, []).append(c)
    return [_source_lines([c.number for c in group], group[0]) for group in grouped.values()]


def render_sources(answer: Answer, width: int = WIDTH) -> str:
    """The full passages behind an answer, for `:sources` in the REPL."""
    blocks = []
    for c in answer.citations:
        body = textwrap.fill(c.passage.text, width, initial_indent="    ", subsequent_indent="    ")
        blocks.append(f"{render_citation(c)}\n    score {c.score:.2f}, passage {c.passage.key}\n{body}")
    return "\n\n".join(blocks) if blocks else "(no sources)"
