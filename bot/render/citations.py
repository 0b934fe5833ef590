"""Citations as every renderer lists them: one entry per source section (and PDF page), holding
the numbers of the passages cited from it ("[2][3] Title — Section, p. 12"), with who published
the source and how current it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.answering.answer import Citation


@dataclass(frozen=True)
class SourceGroup:
    """The citations of one source section (and PDF page), listed once."""

    title: str
    section: str
    page: str  # ", p. 12" for a PDF passage, "" for other formats
    source: str
    citations: tuple[Citation, ...]

    @property
    def numbers(self) -> list[int]:
        return [c.number for c in self.citations]

    @property
    def details(self) -> list[str]:
        """Who published the source and how current it is, from its first cited passage."""
        return source_details(self.citations[0].passage.metadata)


def group_by_source(citations: Sequence[Citation]) -> list[SourceGroup]:
    """The citations grouped by source section and page, in the order each group is first cited."""
    grouped: dict[tuple[str, str, str, str], list[Citation]] = {}
    for c in citations:
        p = c.passage
        grouped.setdefault((p.title, p.section_label, page_suffix(p.metadata), p.source), []).append(c)
    return [
        SourceGroup(title, section, page, source, tuple(group))
        for (title, section, page, source), group in grouped.items()
    ]


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
