"""Reasons to abstain beyond a low score: the question names a country or year the sources lack."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import pycountry

from embeddings.passage import Passage

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z.'’-]*")
_POSSESSIVE = re.compile(r"['’]s$")
# Adjectives and short names people use that ISO 3166 does not list.
_ALIASES = {
    "u.s.": "US",
    "u.s": "US",
    "usa": "US",
    "u.s.a.": "US",
    "america": "US",
    "american": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "british": "GB",
    "england": "GB",
    "english": "GB",
    "german": "DE",
    "french": "FR",
    "chinese": "CN",
    "japanese": "JP",
    "korean": "KR",
    "south korea": "KR",
    "indian": "IN",
    "canadian": "CA",
    "brazilian": "BR",
    "mexican": "MX",
    "italian": "IT",
    "spanish": "ES",
    "russian": "RU",
    "russia": "RU",
    "australian": "AU",
    "swedish": "SE",
    "dutch": "NL",
    "singaporean": "SG",
    "taiwanese": "TW",
    "taiwan": "TW",
    "swiss": "CH",
    "finnish": "FI",
    "danish": "DK",
    "norwegian": "NO",
    "irish": "IE",
    "polish": "PL",
    "austrian": "AT",
    "belgian": "BE",
    "vietnam": "VN",
    "iran": "IR",
}


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Lower-case country names (official, common and short) to ISO alpha-2 codes."""
    names = dict(_ALIASES)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names[value.lower()] = country.alpha_2
    return names


def countries_named(text: str) -> set[str]:
    """ISO codes of the countries a text names, by whole words: 'Germany', 'German', 'the UK'."""
    names = _country_names()
    words = [_POSSESSIVE.sub("", w.lower()) for w in _WORD.findall(text)]
    found: set[str] = set()
    for size in (4, 3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            code = names.get(phrase) or names.get(phrase.rstrip("."))
            if code:
                found.add(code)
    return found


def without_country_words(text: str) -> str:
    """The text with country names and adjectives removed ('the American government' -> 'the
    government'): countries are matched by metadata and guards, not as keywords.

    >>> without_country_words("Why does the American government back manufacturing?")
    'Why does the government back manufacturing?'
    """
    names = _country_names()

    def drop(match: re.Match[str]) -> str:
        word = _POSSESSIVE.sub("", match.group(0).lower())
        return "" if word in names or word.rstrip(".") in names else match.group(0)

    return re.sub(r"\s{2,}", " ", _WORD.sub(drop, text)).strip()


def iso_code(text: str) -> set[str]:
    """{alpha-2 code} for an ISO 3166 two- or three-letter code such as 'DE' or 'DEU'."""
    text = text.strip().upper()
    if len(text) not in (2, 3) or not text.isalpha():
        return set()
    country = pycountry.countries.get(alpha_2=text) if len(text) == 2 else pycountry.countries.get(alpha_3=text)
    return {country.alpha_2} if country else set()


def unsupported_country(question: str, known_countries: Iterable[str]) -> str | None:
    """The country the question asks about when the knowledge base has nothing on it."""
    asked = countries_named(question)
    if not asked:
        return None
    known = set().union(*(countries_named(c) for c in known_countries)) if known_countries else set()
    if asked & known:
        return None
    return ", ".join(sorted(_display(code) for code in asked))


def unsupported_year(question: str, passages: Iterable[Passage]) -> str | None:
    """A year the question names that none of the candidate passages mention."""
    years = _YEAR.findall(question)
    if not years:
        return None
    haystack = " ".join(" ".join((p.title, *p.section, p.text)) for p in passages)
    missing = [year for year in years if year not in haystack]
    return ", ".join(missing) if len(missing) == len(years) else None


_NAME = re.compile(r"(?<![\w'’])([A-Z][A-Za-z0-9&-]*)")
_NOT_NAMES = frozenset(
    {
        "i",
        "a",
        "an",
        "the",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "when",
        "where",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "tell",
        "list",
        "name",
        "give",
        "show",
        "explain",
        "describe",
        "summarise",
        "summarize",
        "please",
        "and",
        "or",
        "of",
        "in",
    }
)


def unknown_names(question: str, vocabulary: frozenset[str]) -> list[str]:
    """Proper names and acronyms in the question that no document mentions ('CHIPS', 'Made Smarter').

    Runs of capitalized words are one name; a name counts as unknown when one of its words
    appears nowhere in the knowledge base. Countries are left to `unsupported_country`; the
    first word of the question is skipped unless it is an acronym, since it is capitalized anyway.
    """
    names: list[str] = []
    run: list[str] = []
    unknown = False

    def close() -> None:
        nonlocal unknown
        if run and unknown:
            names.append(" ".join(run))
        run.clear()
        unknown = False

    previous_end = -1
    for match in _NAME.finditer(question):
        word = match.group(1).strip("-&")
        lower = word.lower()
        is_acronym = sum(c.isupper() for c in word) >= 2
        at_start = not question[: match.start()].strip(" \"'“‘(")
        if not word or lower in _NOT_NAMES or (at_start and not is_acronym) or countries_named(word):
            close()
            continue
        if question[previous_end : match.start()].strip():
            close()
        previous_end = match.end()
        run.append(word)
        parts = [p for p in re.split(r"[^a-z0-9]+", lower) if p]
        unknown |= bool(parts) and not all(p in vocabulary or p.rstrip("s") in vocabulary for p in parts)
    close()
    return names


def _display(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or getattr(country, "name", code))
