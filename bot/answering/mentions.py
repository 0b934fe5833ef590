"""Whether texts mention a country, year or name in any form: a country by name, short name,
demonym or possessive ('France', 'French', 'Germany's', 'the UK'), a year as written, a name by its
words in any inflection or one letter off ('Bismark' for 'Bismarck'), an acronym by its expansion.

>>> unmentioned(["France", "Bismark", "GDP", "1871", "Japan"],
...             ["French troops left in 1871.", "Bismarck's gross domestic product"])
['Japan']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import Stemmer

from bot.answering.countries import countries_named, country_forms

YEAR = re.compile(r"(?<![\w.,])(1[89]\d\d|20\d\d)(?!\w|[.,]\d)")  # "in 2012", "2011–2012"; not "1,2001" or "2012.5"
_TOKEN = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"[\w&]+")  # an acronym as written: "GDP", "R&D"
_POSSESSIVE = re.compile(r"['’]s\b")
MIN_FUZZY_LETTERS = 5  # shorter words must match exactly (or by stem): 'Jon' is not 'Joan'
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

# Acronyms so common that documents use them without defining them ("UK GDP in 2012").
WELL_KNOWN_ACRONYMS = {
    "GDP": "gross domestic product",
    "GNP": "gross national product",
    "R&D": "research and development",
    "SME": "small and medium-sized enterprise",
    "SMEs": "small and medium-sized enterprises",
    "EU": "European Union",
    "UN": "United Nations",
    "OECD": "Organisation for Economic Co-operation and Development",
    "WTO": "World Trade Organization",
    "IMF": "International Monetary Fund",
    "NATO": "North Atlantic Treaty Organization",
    "USSR": "Soviet Union",
    "AI": "artificial intelligence",
    "WWI": "World War I",
    "WWII": "World War II",
}


def unmentioned(terms: Iterable[str], texts: Iterable[str], acronyms: Mapping[str, str] | None = None) -> list[str]:
    """The terms (countries, years, names, acronyms) that none of `texts` mention in any form.

    `acronyms` maps short forms defined in the documents to their long forms (as
    `AcronymUsage.table` does); well-known ones (GDP, R&D, EU...) are always known.
    """
    found = Mentions(texts, acronyms)
    return [term for term in terms if not found.mentions(term)]


class Mentions:
    """What some texts mention: their words and stems, countries, years and acronyms."""

    def __init__(self, texts: Iterable[str], acronyms: Mapping[str, str] | None = None) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        texts = list(texts)
        self.tokens = [f" {' '.join(_words(t))} " for t in texts]
        self.words = frozenset(w for t in self.tokens for w in t.split())
        self.stems = frozenset(self._stemmer.stemWords(list(self.words)))
        self.runs = frozenset(r for t in texts for r in _RUN.findall(t))
        self.countries = set().union(*(countries_named(t) for t in texts))
        self.years = frozenset(y for t in texts for y in YEAR.findall(t))
        self.acronyms = {**WELL_KNOWN_ACRONYMS, **(acronyms or {})}
        self._short_of = {_phrase(long): short for short, long in self.acronyms.items()}

    def mentions(self, term: str) -> bool:
        """Whether the texts mention `term` (a year, a country, or a name) in any of its forms."""
        term = term.strip()
        if YEAR.fullmatch(term):
            return term in self.years
        codes = countries_named(term)
        if codes and codes & self.countries:
            return True
        if term in self.acronyms and self._has_phrase(_phrase(self.acronyms[term])):
            return True
        short = self._short_of.get(_phrase(term))
        if short is not None and short in self.runs:
            return True
        words = _words(term)
        return not codes and bool(words) and all(self._has_word(w) for w in words)

    def _has_word(self, word: str) -> bool:
        if word in self.words or self._stemmer.stemWord(word) in self.stems:
            return True
        if len(word) < MIN_FUZZY_LETTERS or word.isdigit():
            return False
        return any(len(w) >= MIN_FUZZY_LETTERS for w in self.words.intersection(_edits(word)))

    def _has_phrase(self, phrase: str) -> bool:
        """The words of `phrase` in a row in one text, the last one maybe plural ('products')."""
        pattern = re.compile(rf" {re.escape(phrase)}(s|es)? ")
        return any(pattern.search(t) for t in self.tokens)


def _phrase(text: str) -> str:
    return " ".join(_words(text))


def _words(text: str) -> list[str]:
    """Lower-case words without accents or possessive 's: "Schrödinger's" -> ['schrodinger']."""
    text = _POSSESSIVE.sub("", text.lower())
    if text.isascii():  # nothing to fold (most text): skips a Python step per character
        return _TOKEN.findall(text)
    folded = unicodedata.normalize("NFKD", text)
    return _TOKEN.findall("".join(c for c in folded if not unicodedata.combining(c)))


def _edits(word: str) -> set[str]:
    """Every string one deletion, insertion, substitution or swap of neighbours away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | replaces | inserts


def in_vocabulary(term: str, vocabulary: frozenset[str]) -> bool:
    """Whether a knowledge base with these lower-case words may mention `term`: a year as written, a
    country by the words of one of its names, a name by each word as it is, without a plural s, or
    one letter off (words of MIN_FUZZY_LETTERS letters or more)."""
    if YEAR.fullmatch(term.strip()):
        return term.strip() in vocabulary
    codes = countries_named(term)
    if codes:
        forms = (form for code in codes for form in country_forms(code))
        return any(vocabulary.issuperset(_TOKEN.findall(form)) for form in forms)
    words = _words(term)
    return all(
        w in vocabulary
        or w.rstrip("s") in vocabulary
        or (len(w) >= MIN_FUZZY_LETTERS and not vocabulary.isdisjoint(_edits(w)))
        for w in words
    )
