"""The rules that make the bot abstain whatever the learned score says: a country, year or name
the sources lack (the guards), or a figure or date asked for that no candidate sentence holds."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answering.answer_types import AnswerType
from bot.answering.countries import countries_named, country_name
from bot.answering.features import SENTENCE_FEATURES, SentenceRows
from bot.config import AnswerConfig
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage
from embeddings.retrieval import Hit

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def abstention_reason(
    question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex, rows: SentenceRows
) -> str:
    """The rule-based reasons to abstain, most specific first, or "": a country, year or name the
    sources lack (the guards), or a figure or date asked for that no candidate sentence holds.
    The learned answerability score (`scoring.py`) decides the rest."""
    return guard_reason(question, hits, settings, index) or missing_kind(question, rows)


_KIND_WORDS = {
    AnswerType.NUMBER: "a number",
    AnswerType.MONEY: "an amount",
    AnswerType.PERCENT: "a percentage",
    AnswerType.DATE: "a date",
    AnswerType.DURATION: "a duration",
}


def missing_kind(question: str, rows: SentenceRows) -> str:
    """Why a question asking for a figure or a date cannot be answered: no candidate sentence
    holds one ("How much did the plan allocate?" over passages without a sum of money)."""
    if rows.kind not in _KIND_WORDS or not len(rows.rows):
        return ""
    if rows.rows[:, SENTENCE_FEATURES.index("type_match")].max() > 0:
        return ""
    return f"the sources do not give {_KIND_WORDS[rows.kind]} for this"


def guard_reason(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> str:
    """Abstain when the question names a country, year or name the sources lack."""
    names = unknown_names(question, index.vocabulary)
    if names:
        return f"no document mentions {', '.join(names)}"
    country = unsupported_country(question, index.countries())
    if country:
        return f"it holds no documents about {country}"
    year = unsupported_year(question, (h.passage for h in hits[: settings.max_passages]))
    if year:
        return f"its closest passages say nothing about {year}"
    return ""


def unsupported_country(question: str, known_countries: Iterable[str]) -> str | None:
    """The country the question asks about when the knowledge base has nothing on it."""
    asked = countries_named(question)
    if not asked:
        return None
    known = set().union(*(countries_named(c) for c in known_countries)) if known_countries else set()
    if asked & known:
        return None
    return ", ".join(sorted(country_name(code) for code in asked))


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
