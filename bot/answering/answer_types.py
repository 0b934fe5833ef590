"""What a question asks for (a number, an amount of money, a date, a person...) and whether a
sentence holds something of that kind.

Rules over words and capitals, not a trained tagger: spaCy's English pipelines are published on
GitHub, not PyPI (only third-party re-uploads are there), and nothing may be downloaded at run
time. Named entities are approximated by runs of capitalized words that the question does not
already hold; that is what an answer to "who", "where" or "which organisation" adds.
"""

from __future__ import annotations

import re
from enum import StrEnum


class AnswerType(StrEnum):
    """The kind of thing a question asks for."""

    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percentage"
    DATE = "date"
    DURATION = "duration"
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    LIST = "list"
    DEFINITION = "definition"
    REASON = "reason"
    YES_NO = "yes/no"
    OTHER = "other"


_Q = re.IGNORECASE
_RULES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.PERCENT, re.compile(r"\b(what|which) (percent(age)?|proportion|share|fraction)\b|\bhow much of\b", _Q)),
    (
        AnswerType.MONEY,
        re.compile(
            r"\bhow much (money|funding|did .{0,40}\b(cost|spend|pay|invest|allocate|raise|earn)|does .{0,40}\bcost)"
            r"|\b(what|which) (budget|amount|sum|price|cost|value)\b"
            r"|\bhow much .{0,40}\b(cost|costs|spend|spends|spent|pay|pays|paid|invest|invests|invested|allocate|"
            r"allocated|fund|funds|funded|worth|budget|raise|raised)"
            r"|\b(what|which) (is|was|are|were) the (\w+ )?(budget|cost|price|funding)\b",
            _Q,
        ),
    ),
    (AnswerType.DURATION, re.compile(r"\bhow long\b|\bfor how many (years|months|days|weeks|hours)\b", _Q)),
    (
        AnswerType.DATE,
        re.compile(
            r"^\s*when\b|\b(in |by |since |until )?(what|which) "
            r"(year|years|decade|century|date|month|day|period|era|time)\b"
            r"|\bwhen (was|were|did|does|do|is|are|will|had|has)\b|\bhow long ago\b",
            _Q,
        ),
    ),
    (AnswerType.NUMBER, re.compile(r"\bhow (many|much|large|big|high|far|old|fast|tall|heavy)\b|\bwhat number\b", _Q)),
    (
        AnswerType.PERSON,
        re.compile(
            r"^\s*(who|whom|whose)\b|\b(who|whom|whose) (was|were|is|are|did|does|had|has)\b"
            r"|\bwhich (person|man|woman|king|president|scientist)\b",
            _Q,
        ),
    ),
    (
        AnswerType.ORGANISATION,
        re.compile(
            r"\b(what|which) (organi[sz]ation|agency|institute|institution|company|body|council|committee|"
            r"university|department|group)\b",
            _Q,
        ),
    ),
    (
        AnswerType.PLACE,
        re.compile(
            r"^\s*where\b|\bwhere (is|was|were|did|does|do|are)\b|\b(what|which|in what|in which) "
            r"(country|city|region|state|place|town|continent|nation|area)\b",
            _Q,
        ),
    ),
    (
        AnswerType.REASON,
        re.compile(
            r"^\s*why\b|\bwhy (is|was|were|did|does|do|are)\b|\bfor what reason\b|\bwhat (caused|causes|led to)\b", _Q
        ),
    ),
    (
        AnswerType.LIST,
        re.compile(r"^\s*(list|name|enumerate)\b|\b(what|which) are the (main |key |three |four |five )?\w+s\b", _Q),
    ),
    (AnswerType.DEFINITION, re.compile(r"^\s*(what is|what are|what does .+ mean|define|what's)\b[^,]{0,60}\??$", _Q)),
    (
        AnswerType.YES_NO,
        re.compile(r"^\s*(is|are|was|were|do|does|did|can|could|should|has|have|had|will|would)\b", _Q),
    ),
)


def classify(question: str) -> AnswerType:
    """The kind of answer `question` asks for; OTHER when no rule applies.

    >>> classify("How many recommendations did the AMP make?").value
    'number'
    >>> classify("When was the institute founded?").value
    'date'
    """
    for kind, rule in _RULES:
        if rule.search(question):
            return kind
    return AnswerType.OTHER


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    r"million|millions|billion|billions|trillion|dozen|dozens|several"
)
# a count or a measure: a number that is not a year ("sixteen recommendations", "1,500 jobs"; not "in 2012")
_NUMBER = re.compile(rf"(?<![\d,.])(?!(1[0-9]|20)\d\ds?\b)\d|\b({_NUMBER_WORDS})\b", _Q)
_CURRENCY = (
    r"dollars?|pounds?|euros?|yen|yuan|marks?|francs?|guilders?|florins?|shillings?|pence|cents?|usd|gbp|eur|rmb"
)
# an amount: a currency sign or word beside a number, or a number of millions ("$1 billion", "139 billion pounds")
_MONEY = re.compile(
    rf"[$£€¥]\s?\d|\d[\d,.]*\s*(million|billion|trillion|bn|m)\b|\b(\d[\d,.]*|{_NUMBER_WORDS})[- ]"
    rf"(\w+ )?({_CURRENCY})\b",
    _Q,
)
_PERCENT = re.compile(r"%|\b(per ?cent|percentage|proportion|half|third|quarter|majority|fraction)\b", _Q)
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\."
)
_DATE = re.compile(
    rf"\b(1\d{{3}}|20\d\d|\d{{3}})s?\b|\b({_MONTHS})\b|\b\d{{1,2}}(st|nd|rd|th) century\b|\b(\w+th|\w+st) century\b"
    r"|\b(BC|AD|BCE|CE)\b|\b(spring|summer|autumn|fall|winter) of\b|\b(decade|century|era|period|age|reign)\b",
)
_DURATION = re.compile(
    rf"\b(\d[\d,.]*|{_NUMBER_WORDS}|several|a few)[- ](\w+ )?(seconds?|minutes?|hours?|days?|weeks?|months?|years?|"
    r"decades?|centuries|century|generations?)\b|\b(until|since|for|from) \b",
    _Q,
)
_REASON = re.compile(
    r"\b(because|due to|owing to|as a result|result(ed|s)? (in|from)|in order to|so that|so as to|caused|causes|"
    r"led to|leads to|thanks to|since|therefore|thus|hence|reason|aim(ed|s)? to|to (help|ensure|promote|support|make|"
    r"reduce|increase|improve|avoid|prevent|allow|enable|protect|create))\b",
    _Q,
)
_DEFINITION = re.compile(
    r"\b(is|are|was|were) (a|an|the|one of)\b|\b(refers? to|means|meaning|defined as|known as|describes?|consists? of|"
    r"is called|are called|stands for)\b",
    _Q,
)
_ORG_WORDS = re.compile(
    r"\b(Institute|Institution|University|College|Council|Committee|Agency|Association|Department|Ministry|Office|"
    r"Commission|Board|Society|Company|Corporation|Inc|Ltd|Bank|Court|Parliament|Congress|Senate|Party|Union|"
    r"Foundation|Network|Centre|Center|Group|Service|Authority|Partnership|Academy|Laboratory|Church|Army|Navy)\b"
)
_PLACE_CUES = re.compile(r"\b(in|at|from|to|near|across|throughout|into|of) (the )?[A-Z][a-z]", 0)
_CAPITAL_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’-]*(?:\s+(?:of|the|de|von|van|for|and)?\s*[A-Z][\w'’-]*)*)")
_WORD = re.compile(r"[a-z0-9]+")


def new_names(sentence: str, question: str) -> list[str]:
    """Runs of capitalized words (names, roughly) in `sentence` that `question` does not hold."""
    asked = set(_WORD.findall(question.lower()))
    names = []
    for match in _CAPITAL_RUN.finditer(sentence):
        words = set(_WORD.findall(match.group(1).lower()))
        if words and not words <= asked:
            names.append(match.group(1))
    return names


_HOLDS = {
    AnswerType.NUMBER: _NUMBER,
    AnswerType.MONEY: _MONEY,
    AnswerType.PERCENT: _PERCENT,
    AnswerType.DATE: _DATE,
    AnswerType.DURATION: _DURATION,
    AnswerType.REASON: _REASON,
    AnswerType.DEFINITION: _DEFINITION,
}


def holds(kind: AnswerType, sentence: str, question: str) -> bool:
    """Whether `sentence` holds an answer of the kind asked for (always true for kinds that any
    sentence can answer: yes/no, list, other)."""
    pattern = _HOLDS.get(kind)
    if pattern is not None:
        return bool(pattern.search(sentence))
    if kind in (AnswerType.PERSON, AnswerType.PLACE):
        return bool(new_names(sentence, question))
    if kind is AnswerType.ORGANISATION:
        names = new_names(sentence, question)
        return any(_ORG_WORDS.search(n) or sum(c.isupper() for c in n) >= 2 for n in names)
    return True


def typed_kinds() -> frozenset[AnswerType]:
    """The kinds whose absence from every candidate sentence means the sources do not give it."""
    return frozenset({AnswerType.NUMBER, AnswerType.MONEY, AnswerType.PERCENT, AnswerType.DATE, AnswerType.DURATION})
