"""Answers rendered for a terminal: quotes with [n] markers, then the numbered sources."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from bot.answer import Answer, Citation

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
    details = "; ".join(p.metadata[k] for k in ("publisher", "date") if p.metadata.get(k))
    lines = [f"{marks} {p.title} — {p.section_label}", f"    {p.source}"]
    if details:
        lines.append(f"    {details}")
    return "\n".join(lines)


def render_citations(citations: Sequence[Citation]) -> list[str]:
    """One entry per source section; passages of the same section share it: [2][3] Title — Section."""
    grouped: dict[tuple[str, str, str], list[Citation]] = {}
    for c in citations:
        grouped.setdefault((c.passage.title, c.passage.section_label, c.passage.source), []).append(c)
    return [_source_lines([c.number for c in group], group[0]) for group in grouped.values()]


def render_sources(answer: Answer, width: int = WIDTH) -> str:
    """The full passages behind an answer, for `:sources` in the REPL."""
    blocks = []
    for c in answer.citations:
        body = textwrap.fill(c.passage.text, width, initial_indent="    ", subsequent_indent="    ")
        blocks.append(f"{render_citation(c)}\n    score {c.score:.2f}, passage {c.passage.key}\n{body}")
    return "\n\n".join(blocks) if blocks else "(no sources)"
