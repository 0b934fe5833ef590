"""Acronyms defined in the documents ("Advanced Manufacturing Partnership (AMP)"), so a question
using either form finds passages using the other."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from types import ModuleType


def _import_quietly() -> ModuleType:
    """Import the library, undoing the `logging.basicConfig(level=INFO)` it runs on import."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from abbreviations import schwartz_hearst

    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger(schwartz_hearst.__name__).setLevel(logging.WARNING)  # it logs every odd line
    return schwartz_hearst


schwartz_hearst = _import_quietly()


def collect(texts: Iterable[str]) -> dict[str, str]:
    """Acronym -> long form, by the Schwartz-Hearst algorithm; the first definition found wins."""
    found: dict[str, str] = {}
    for text in texts:
        if "(" not in text:
            continue
        for short, long in schwartz_hearst.extract_abbreviation_definition_pairs(doc_text=text).items():
            if short not in found and 2 <= len(short) <= 12 and any(c.isupper() for c in short):
                found[short] = " ".join(long.split())
    return dict(sorted(found.items()))


def expand(question: str, acronyms: dict[str, tuple[str, int, int]]) -> str:
    """The question with the other form of an acronym appended when the corpus uses that form
    more often than the one asked with (`acronyms`: short -> (long form, passages using the
    short form, passages using the long form)).

    >>> usage = {"AMP": ("Advanced Manufacturing Partnership", 5, 1)}
    >>> expand("What did the advanced manufacturing partnership say?", usage)
    'What did the advanced manufacturing partnership say? (AMP)'
    >>> expand("What did AMP say?", usage)
    'What did AMP say?'
    """
    extra = []
    lowered = question.lower()
    for short, (long, short_count, long_count) in acronyms.items():
        if uses_short(question, short) and long_count > short_count:
            extra.append(long)
        elif long.lower() in lowered and short_count > long_count:
            extra.append(short)
    return f"{question} ({'; '.join(extra)})" if extra else question


def uses_short(text: str, short: str) -> bool:
    return re.search(rf"(?<![\w&]){re.escape(short)}(?![\w&])", text) is not None
