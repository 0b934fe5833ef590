"""Every reason to abstain: no passage close enough, too few of the question's key terms in the
best passages, or a country, year or name the sources lack (the guards)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answering.countries import countries_named, country_name
from bot.answering.quotes import candidates
from bot.config import AnswerConfig
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage
from embeddings.retrieval import Hit

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def abstention_reason(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> str:
    """Why the knowledge base cannot answer, or "" when it can."""
    threshold = settings.abstain_below
    if not hits:
        return "the index holds no passages"
    best = max(h.score for h in hits)
    if best < threshold:
        return f"no passage is close enough: best match {best:.2f}, threshold {threshold:.2f}"
    guard = guard_reason(question, hits, settings, index)  # the most specific reason first
    if not guard and best < settings.support_below:
        coverage = term_coverage(question, hits, settings, index)
        if coverage < settings.min_term_coverage:
            return f"its closest passages (best match {best:.2f}) hold few of the question's key terms"
    return guard


def term_coverage(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> float:
    """The largest share (weighted by rarity) of the question's key terms that one of the top
    passages holds; the second abstention signal, beside the dense score."""
    lexical = index.lexical
    terms = lexical.terms(index.acronym_usage.expand(question))
    total = sum(lexical.idf(t) for t in terms)
    if not total:
        return 0.0
    shares = (
        sum(lexical.idf(t) for t in terms & lexical.terms(h.passage.context_text())) / total
        for h in hits[: settings.max_passages]
    )
    return max(shares, default=0.0)


def guard_reason(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> str:
    """Abstain when the question names a country, year or name the sources lack."""
    names = unknown_names(question, index.vocabulary)
    if names:
        return f"no document mentions {', '.join(names)}"
    country = unsupported_country(question, index.countries())
    if country:
        return f"it holds no documents about {country}"
    year = unsupported_year(question, (h.passage for h in candidates(hits, settings)))
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
