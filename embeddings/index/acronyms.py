"""Acronyms defined in the documents ("Advanced Manufacturing Partnership (AMP)"), so a question
using either form finds passages using the other."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
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


_RUN = re.compile(r"[\w&]+")  # an acronym is used where it is a whole run of these ("R&D", not "AMPlifier")
_WORD = re.compile(r"\w+")


class AcronymUsage:
    """Acronyms defined in the documents, with how many passages use each form.

    Both forms are found by token lookups, so a text costs time linear in its length however
    many acronyms there are (SciFact's 5,183 abstracts define 3,420; a regex per acronym took
    8 minutes to count them and ~0.4 s per question).
    """

    def __init__(self, table: Mapping[str, tuple[str, int, int]]) -> None:
        """`table`: short form -> (long form, passages using the short form, passages using the long form)."""
        self.table = dict(table)
        self._rank = {short: i for i, short in enumerate(self.table)}
        self._plain = {short for short in self.table if _RUN.fullmatch(short)}
        self._patterns = [  # the others ("5-HT", "U.S."): a regex, tried only if the text has their runs
            (short, frozenset(_RUN.findall(short)), re.compile(rf"(?<![\w&]){re.escape(short)}(?![\w&])"))
            for short in self.table
            if short not in self._plain
        ]
        self._by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for short, (long, _, _) in self.table.items():
            words = tuple(_WORD.findall(long.lower()))
            if words:
                self._by_first_word[words[0]].append((words, short))

    @classmethod
    def count(cls, definitions: Mapping[str, str], texts: Iterable[str]) -> AcronymUsage:
        """Count, for each acronym (short -> long form), the texts using either form."""
        if not definitions:
            return cls({})
        finder = cls({short: (long, 0, 0) for short, long in definitions.items()})
        shorts: Counter[str] = Counter()
        longs: Counter[str] = Counter()
        for text in texts:
            shorts.update(finder.short_forms_in(text))
            longs.update(finder.long_forms_in(text))
        return cls({short: (long, shorts[short], longs[short]) for short, long in definitions.items()})

    def short_forms_in(self, text: str) -> set[str]:
        """Acronyms used in `text` as they are written (case-sensitive, whole)."""
        runs = set(_RUN.findall(text))
        found = self._plain & runs
        found.update(short for short, parts, pattern in self._patterns if parts <= runs and pattern.search(text))
        return found

    def long_forms_in(self, text: str) -> set[str]:
        """Acronyms whose long form `text` holds: whole words, any case, punctuation aside; the last
        word may go on ("advanced manufacturing partnerships"), a one-word form may take a plural s."""
        words = _WORD.findall(text.lower())
        found = set()
        for i, word in enumerate(words):
            for form, short in self._by_first_word.get(word, ()):
                end = i + len(form) - 1
                if end < len(words) and tuple(words[i + 1 : end]) == form[1:-1] and words[end].startswith(form[-1]):
                    found.add(short)
            if word.endswith("s"):
                found.update(short for form, short in self._by_first_word.get(word[:-1], ()) if len(form) == 1)
        return found

    def expand(self, question: str) -> str:
        """The question with the other form of an acronym appended when the documents use that
        form more often than the one asked with.

        >>> usage = AcronymUsage({"AMP": ("Advanced Manufacturing Partnership", 5, 1)})
        >>> usage.expand("What did the advanced manufacturing partnership say?")
        'What did the advanced manufacturing partnership say? (AMP)'
        >>> usage.expand("What did AMP say?")
        'What did AMP say?'
        """
        shorts, longs = self.short_forms_in(question), self.long_forms_in(question)
        extra = []
        for short in sorted(shorts | longs, key=self._rank.__getitem__):
            long, short_count, long_count = self.table[short]
            if short in shorts and long_count > short_count:
                extra.append(long)
            elif short in longs and short_count > long_count:
                extra.append(short)
        return f"{question} ({'; '.join(extra)})" if extra else question
