"""Countries by name, short name, adjective or ISO code: which ones a text names, and the scope a
question asks for ("[Germany] ..." or `ask --country`)."""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pycountry

_WORD = re.compile(r"[A-Za-z][A-Za-z.'’-]*")
_POSSESSIVE = re.compile(r"['’]s$")
_US = re.compile(r"(?<![\w.])US(?![\w.])")
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
    "scotland": "GB",
    "scottish": "GB",
    "wales": "GB",
    "welsh": "GB",
    "holland": "NL",
    "greek": "GR",
    "turkish": "TR",
    "portuguese": "PT",
    "hungarian": "HU",
    "czech": "CZ",
    "ukrainian": "UA",
    "romanian": "RO",
    "egyptian": "EG",
    "israeli": "IL",
    "argentine": "AR",
    "argentinian": "AR",
    "nigerian": "NG",
    "south african": "ZA",
    "pakistani": "PK",
    "indonesian": "ID",
    "filipino": "PH",
    "thai": "TH",
    "swede": "SE",
    "dane": "DK",
    "brit": "GB",
    "frenchman": "FR",
    "frenchmen": "FR",
    "englishman": "GB",
    "englishmen": "GB",
    "dutchman": "NL",
    "dutchmen": "NL",
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


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    """The first word of every country name: a phrase can only name a country from one of these."""
    return frozenset(name.split(" ")[0] for name in _country_names())


def countries_named(text: str) -> set[str]:
    """ISO codes of the countries a text names, by whole words: 'Germany', 'German', 'Germans', 'the UK', 'US'."""
    names, starts = _country_names(), _first_words()
    words = [w.lower() for w in _WORD.findall(text)]
    words = [_POSSESSIVE.sub("", w) if w.endswith("s") else w for w in words]
    found: set[str] = set()
    for i, word in enumerate(words):
        if word not in starts and word.rstrip(".") not in starts and word[:-1] not in starts:
            continue  # no name starts here: most words of a passage, and the reason this is fast
        for size in (4, 3, 2, 1):
            if i + size > len(words):
                continue
            phrase = " ".join(words[i : i + size])
            code = names.get(phrase) or names.get(phrase.rstrip("."))
            if not code and size == 1 and phrase.endswith("s"):
                code = names.get(phrase[:-1])  # a plural demonym: 'Germans', 'Americans'
            if code:
                found.add(code)
    if _US.search(text):  # "US" in capitals, not the word "us"
        found.add("US")
    return found


@cache
def country_forms(code: str) -> tuple[str, ...]:
    """Every lower-case name and adjective of the country with ISO alpha-2 `code`: 'FR' -> ('france', 'french', ...)."""
    return tuple(sorted(name for name, named in _country_names().items() if named == code))


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


_SCOPE = re.compile(r"^\s*\[([^\[\]]{2,60})\]\s*")


def split_scope(question: str) -> tuple[str | None, str]:
    """A leading "[Country]" limits the question to that country's documents.

    >>> split_scope("[Germany] What is Industrie 4.0?")
    ('Germany', 'What is Industrie 4.0?')
    """
    match = _SCOPE.match(question)
    if match is None:
        return None, question
    return match.group(1).strip(), question[match.end() :]


def match_country(wanted: str, known: set[str]) -> str | None:
    """The knowledge base's name for a country asked for by name, short name or adjective."""
    for name in known:
        if name.casefold() == wanted.casefold():
            return name
    codes = countries_named(wanted) or iso_code(wanted)
    return next((name for name in sorted(known) if codes and countries_named(name) == codes), None)


def country_name(code: str) -> str:
    """The common (or official) name of the country with ISO alpha-2 `code`: 'GB' -> 'United Kingdom'."""
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or getattr(country, "name", code))
