"""The rules that make the bot abstain whatever the learned score says: a country, year or name
the sources lack (the guards), or a figure or date asked for that no candidate sentence holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answering.answer_types import AnswerType
from bot.answering.countries import countries_named, country_name
from bot.answering.features import SENTENCE_FEATURES, SentenceRows
from bot.answering.mentions import YEAR, Mentions, in_vocabulary
from bot.config import AnswerConfig
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage
from embeddings.retrieval import Hit


def abstention_reason(
    question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex, rows: SentenceRows
) -> str:
    """The rule-based reasons to abstain, or "": no passage close at all (an off-topic question), a
    country, year or name the sources lack (the guards), or a figure or date asked for that no
    candidate sentence holds. The learned answerability score (`scoring.py`) decides the rest."""
    best = max((h.score for h in hits), default=0.0)
    if best < settings.abstain_below:
        return f"no passage is close enough: best match {best:.2f}, threshold {settings.abstain_below:.2f}"
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


@dataclass(frozen=True)
class GuardFindings:
    """What the question names that the passages it retrieved never mention, in any form: the
    evidence of the country, year and name guards (and features for a learned abstention model)."""

    names: tuple[str, ...] = ()  # proper names and acronyms no top passage mentions
    countries: tuple[str, ...] = ()  # countries named by the question that no top passage mentions
    countries_named: int = 0  # how many countries the question names
    years: tuple[str, ...] = ()  # years named by the question that no top passage mentions
    years_named: int = 0  # how many years the question names
    nowhere: frozenset[str] = frozenset()  # those of the above that no document mentions at all


def guard_findings(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> GuardFindings:
    """Which names, countries and years of the question the top `guard_passages` hits never mention
    (in their title, headings, text, or the country their document is about)."""
    texts = [_passage_text(h.passage) for h in hits[: settings.guard_passages]]
    acronyms = {short: long for short, (long, _, _) in index.acronym_usage.table.items()}
    found = Mentions(texts, acronyms)
    names = tuple(n for n in proper_names(question) if not found.mentions(n))
    countries = sorted(country_name(code) for code in countries_named(question))
    years = list(dict.fromkeys(YEAR.findall(question)))
    silent_countries = tuple(c for c in countries if not found.mentions(c))
    silent_years = tuple(y for y in years if not found.mentions(y))
    return GuardFindings(
        names=names,
        countries=silent_countries,
        countries_named=len(countries),
        years=silent_years,
        years_named=len(years),
        nowhere=frozenset(
            t for t in (*names, *silent_countries, *silent_years) if not in_vocabulary(t, index.vocabulary)
        ),
    )


def guard_reason(question: str, hits: list[Hit], settings: AnswerConfig, index: LoadedIndex) -> str:
    """Abstain when the question names a country, year or name that none of the top passages mention."""
    return findings_reason(guard_findings(question, hits, settings, index))


def findings_reason(findings: GuardFindings) -> str:
    """The reason to abstain the guards' findings give, or "": a name that no top passage mentions,
    else countries or years when the question names none that they mention."""
    if findings.names:
        terms, silent = findings.names, "never mention"
    elif findings.countries and len(findings.countries) == findings.countries_named:
        terms, silent = findings.countries, "say nothing about"
    elif findings.years and len(findings.years) == findings.years_named:
        terms, silent = findings.years, "say nothing about"
    else:
        return ""
    if findings.nowhere.issuperset(terms):
        return f"no document mentions {', '.join(terms)}"
    return f"its closest passages {silent} {', '.join(terms)}"


def _passage_text(passage: Passage) -> str:
    country = passage.metadata.get("country")  # metadata can show a passage is about a country, never that it is not
    return "\n".join((passage.title, *passage.section, passage.text, *([str(country)] if country else [])))


_NAME = re.compile(r"(?<![\w'’])([^\W\d_][\w&-]*)")  # any letters: "Brühl", "Jerónimo"
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
        "mr",  # titles and suffixes the documents may spell out or leave out
        "mrs",
        "ms",
        "dr",
        "jr",
        "sr",
    }
)


def proper_names(question: str) -> list[str]:
    """Proper names and acronyms in the question ('CHIPS', 'Made Smarter', 'Bismarck').

    Runs of capitalized words are one name. Countries are left to the country guard; the first
    word of the question is skipped unless it is an acronym, since it is capitalized anyway.

    >>> proper_names("What does the CHIPS and Science Act give Germany's Fraunhofer institutes?")
    ['CHIPS', 'Science Act', 'Fraunhofer']
    """
    names: list[str] = []
    run: list[str] = []
    previous_end = -1
    for match in _NAME.finditer(question):
        word = match.group(1).strip("-&_")
        if not word[:1].isupper():
            continue
        is_acronym = sum(c.isupper() for c in word) >= 2
        at_start = not question[: match.start()].strip(" \"'“‘(")
        skip = not word or word.lower() in _NOT_NAMES or (at_start and not is_acronym) or bool(countries_named(word))
        if run and (skip or question[previous_end : match.start()].strip()):
            names.append(" ".join(run))
            run.clear()
        if skip:
            continue
        previous_end = match.end()
        run.append(word)
    if run:
        names.append(" ".join(run))
    return names
