"""Follow-up questions read in the context of the conversation, without a language model.

A message that stands on its own is searched exactly as it is. One that depends on earlier turns
(a pronoun or demonstrative with no referent in it, "and the 2012 one?", "what about ...?", "no, I
meant ...", a question too short to stand alone, words pointing back) is rewritten, by rules from
conversational search without a model (TREC CAsT, QReCC):

- substitution: an elliptical message naming a year, a country, a programme or the object of
  "about" where an earlier question named one is that question again with the new one in its place
  ("What did the 2011 PCAST report recommend?" + "And the 2012 one?" -> "... the 2012 PCAST ...");
  a country correction is also limited to that country's documents ("[Germany] ...");
- expansion (historical query expansion, HQE, with terms chosen by rule as QuReTeC learns to):
  the message plus the key terms of earlier turns (names, years and the headings of the sections
  their answers cited), weighted by recency; a pronoun is replaced by the topic. An elliptical
  message ("what about energy?") also keeps the last question's other words.

>>> turns = [Turn("What did the 2011 PCAST report recommend?", "What did the 2011 PCAST report recommend?")]
>>> read_in_context("And the 2012 one?", turns).question
'What did the 2012 PCAST report recommend?'
>>> read_in_context("How do I bake sourdough bread?", turns).question
'How do I bake sourdough bread?'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import Stemmer

from bot.answering.answer import Answer
from bot.answering.countries import countries_named as _countries_named
from bot.answering.mentions import YEAR
from embeddings.index.lexical import STOPWORDS

RECENCY = 0.5  # a turn's terms weigh this much less than those of the turn after it
MIN_WEIGHT = 0.6  # terms weighing less are left out: older turns count when they agree
MAX_TERMS = 4  # at most this many terms are added
MAX_TURNS = 6  # only this many earlier turns are read
SHORT = 3  # a message with at most this many content words, no name and a word of earlier turns depends on them

_WORD = re.compile(r"\w(?:[\w&.'’-]*\w)?")
_COURTESY = r"(?:(?:thanks|thank you|ok|okay|great|cool|nice|right|hm+|ah|yes)\b[\s,.!]*)*"
_LEAD = re.compile(
    rf"^\s*{_COURTESY}(?P<lead>(?:and\s+)?(?:what|how)\s+about|what\s+of|same\s+for|"
    r"(?:no|nope|sorry|actually|oops)\b[\s,.!]*(?:i\s+meant?|i\s+was\s+asking\s+about)?|i\s+meant?|"
    r"and|also|plus|but|so|or)\b[\s,.!:]*",
    re.IGNORECASE,
)
_PRONOUNS = frozenset({"it", "its", "they", "them", "their", "theirs", "he", "she", "his", "her", "him"})
_DEMONSTRATIVES = frozenset({"this", "these", "those"})
_THAT_AFTER = frozenset(
    re.findall(
        r"\S+",
        "was is are were does did do about of in on for with from by to making make has have had explain describe",
    )
)
_BACK = re.compile(
    r"\b(?:(?:too|as well)\s*[?.!]*\s*$|else|instead\b(?!\s+of)|the (?:first|second|third|last|latter|former|same)\b|"
    r"(?:the\s+)?other\b(?!\s+than)|"
    r"(?:the|that|this|which|another|any|each|there)\s+(?:\w+\s+)?one\b|one\s+(?:for|of|in|about|on|with)\b|"
    r"ones?\s*\?)",
    re.IGNORECASE,
)
_QUESTION_WORDS = frozenset(
    re.findall(
        r"\S+",
        "what which who whom whose why how when where is are was were do does did can could should would will "
        "tell me more please about say says said give list show explain describe there any anything",
    )
)
_STOP = frozenset(STOPWORDS) | _QUESTION_WORDS | _PRONOUNS | _DEMONSTRATIVES | {"that", "one", "ones", "i", "meant"}
_NOT_NAME_START = _QUESTION_WORDS | frozenset(
    re.findall(
        r"\S+",
        "the a an and no yes sorry thanks ok okay also so but in since after before if has have had may might "
        "must shall according besides then now any all some as at by for from on to with under over between "
        "during",
    )
)
_CONNECTORS = frozenset({"in", "of", "for", "and", "&", "de", "der", "des"})
_GENERIC = frozenset(
    re.findall(
        r"\S+",
        "plan report programme program strategy title one policy policies national key overview introduction "
        "summary background general other",
    )
)
_CORRECTION = re.compile(rf"^\s*{_COURTESY}(?:no|nope|sorry|actually|oops|i\s+meant?)\b", re.IGNORECASE)
_ELLIPTICAL = re.compile(r"\b(?:about|of|same|no|nope|sorry|actually|oops|meant?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: the message, how it was read, and what its answer cited."""

    question: str
    interpreted: str
    cited: tuple[str, ...] = ()  # texts of the cited passages; empty when it abstained
    sections: tuple[str, ...] = ()  # the headings of the cited passages' sections, deepest first
    abstained: bool = False


def turn_of(answer: Answer) -> Turn:
    """The turn an answer adds to its conversation."""
    if answer.abstained:
        return Turn(answer.question, answer.read_as, abstained=True)
    cited = tuple(c.passage.text for c in answer.citations)
    sections = tuple(dict.fromkeys(c.passage.section[-1] for c in answer.citations if c.passage.section))
    return Turn(answer.question, answer.read_as, cited, sections)


@dataclass(frozen=True)
class Reading:
    """The question to search for a message: the message itself, or its rewrite in context."""

    question: str
    in_context: bool = False
    why: str = ""  # what made the message depend on earlier turns


@dataclass(frozen=True)
class _Entities:
    years: tuple[str, ...]
    countries: frozenset[str]
    names: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.years or self.countries or self.names)


def read_in_context(message: str, turns: Sequence[Turn]) -> Reading:
    """How to read `message` after `turns` (oldest first): the message itself when it stands alone."""
    turns = _since_topic(turns)
    why = depends_on_context(message, turns) if turns else ""
    if not why:
        return Reading(message)
    lead = _LEAD.match(message)
    body = message[lead.end() :].strip() if lead else message
    elliptical = lead is not None and (
        bool(_ELLIPTICAL.search(lead.group("lead"))) or not _own_words(body) - _GENERIC_STEMS
    )
    new = _entities(message)
    shown = message.strip() if lead and not _CORRECTION.match(message) else body  # "What about energy (...)?"
    shown = _resolve_definite(shown, turns)  # "the platform" -> "the Plattform Industrie 4.0"
    rewritten = (_substitute(body, new, turns) if elliptical else None) or _expand(shown, new, turns, elliptical)
    scope = _country_scope(body, new, elliptical)
    if scope and not rewritten.startswith("["):
        rewritten = f"[{scope}] {rewritten}"
    if rewritten == message:
        return Reading(message)
    return Reading(rewritten, True, why)


_FOCUS = re.compile(
    r"\b(?:its|their)\s+(?P<owned>\w+(?:\s+\w+)?)|\bhow\s+(?:many|much)\s+(?P<counted>\w+)", re.IGNORECASE
)


def missing_focus(message: str, cited: Sequence[str]) -> str:
    """What a follow-up asks of its topic ("its budget", "how many jobs") when no passage its
    answer cites speaks of it, else "": the topic came from earlier turns, so passages about the
    topic are found whatever is asked of it, and only the asked-for thing shows they answer it.

    >>> missing_focus("Who is its director?", ["Innovate UK is the national innovation agency."])
    'director'
    """
    evidence = _stems(" ".join(cited))
    for match in _FOCUS.finditer(message):
        words = [w for w in _content_words(match.group("owned") or match.group("counted") or "") if w.lower()]
        words = [w for w in words if _stem(w) not in _GENERIC_STEMS]
        if words and not any(_stem(w) in evidence or any(_one_off(_stem(w), e) for e in evidence) for w in words):
            return " ".join(words)
    return ""


def _latest_answered(turns: Sequence[Turn]) -> Turn | None:
    """The most recent turn the bot answered (one it abstained on says nothing of the topic)."""
    return next((t for t in reversed(turns) if not t.abstained), None)


def _since_topic(turns: Sequence[Turn]) -> list[Turn]:
    """The turns since the latest one that stood alone and was answered: a new topic starts there
    (a question the bot could not answer is an aside, not a new topic)."""
    turns = list(turns)[-MAX_TURNS:]
    start = max((i for i, t in enumerate(turns) if t.interpreted == t.question and not t.abstained), default=0)
    return turns[start:]


def depends_on_context(message: str, turns: Sequence[Turn] = ()) -> str:
    """Why `message` needs earlier turns to be understood, or "" when it stands alone."""
    lead = _LEAD.match(message)
    if lead:
        body = message[lead.end() :].strip()
        word = lead.group("lead").strip(" ,.!:").lower()
        asks = bool(_ASKS.match(body)) or len(_own_words(body)) >= 2  # "so, what is Industrie 4.0?"
        if _ELLIPTICAL.search(word) or not (_entities(body) and asks):
            return f"starts with {word!r}"
        message = body  # "And Industrie 4.0, where was it presented?" may stand on its own
    words = _words(message)
    for i, word in enumerate(words):
        lower = word.lower()
        pointing = lower in _DEMONSTRATIVES or (lower == "that" and (i == 0 or words[i - 1].lower() in _THAT_AFTER))
        if (lower in _PRONOUNS or pointing) and not _entities(" ".join(words[:i])) and not _said_before(words[:i]):
            return f"{word!r} refers back"
    entities = _entities(message)
    back = _BACK.search(message)
    if back and not entities:
        return f"{back.group(0)!r} points back"
    content = _content(message)
    if not entities and len(content) <= SHORT and _shares_words(content, turns):
        return "too short to stand alone"
    return ""


_ASKS = re.compile(r"(?:what|which|who|whom|whose|why|how|when|where|is|are|was|were|does|did|do|can)\b", re.I)
_SECOND_CLAUSE = re.compile(r"^(.+?)\s+(?:and|,)\s+(?:what|which|who|how|when|where|why|does|did|is|was)\b", re.I)


def _said_before(words: list[str]) -> bool:
    """A pronoun in a second question ('What is the strategic plan and what does it say?') refers to the first."""
    first = _SECOND_CLAUSE.match(" ".join(words))
    return first is not None and len(_content(first.group(1))) >= 2


def _own_words(body: str) -> set[str]:
    """Content words of `body` besides its names, years and countries."""
    return _content(_strip_entities(body, _entities(body)))


def _substitute(body: str, new: _Entities, turns: Sequence[Turn]) -> str | None:
    """The latest earlier question naming the same kind of year, country or name as the elliptical
    `body`, with the new one in its place, or the latest answered one with the new subject as the
    object of its "about"; None when nothing fits."""
    says_more = bool(_own_words(body) - _GENERIC_STEMS)  # more than which one: not a swap of names
    for turn in reversed(turns if new and not says_more else ()):
        previous = _unscoped(turn.interpreted)
        old = _entities(_plain(previous))
        if new.years and old.years and set(new.years) != set(old.years):
            return _replace(previous, old.years[0], new.years[0])
        if new.countries and old.countries and new.countries != old.countries:
            return _replace_country(previous, old.countries, _country_as_written(body, new.countries))
        if new.names and old.names and not new.years and not new.countries:
            return _replace(previous, old.names[-1], new.names[0])
    latest = _latest_answered(turns)
    if latest is not None and new.countries and not new.years and not new.names and not says_more:
        return _unscoped(_as_asked_elsewhere(latest))  # "and in Germany?": the same question, scoped to Germany
    if latest is None or new.years or new.countries:
        return None
    previous = _plain(latest.interpreted)
    about = re.search(r"\babout\s+(.+?)\s*\??$", previous, re.IGNORECASE)
    if about is None:
        return None
    topic = re.sub(r"^(?:about|on|in|regarding)\s+", "", body.rstrip(" ?.!"), flags=re.IGNORECASE)
    return f"{previous[: about.start(1)]}{topic}?"


def _as_asked_elsewhere(turn: Turn) -> str:
    """The question of `turn` to ask again of another country: its message as typed when that was a
    follow-up saying something of its own ("What about education?"), since what its reading took
    from earlier turns was about the old country; else its reading ("no, I meant Germany" says nothing)."""
    if turn.interpreted != turn.question and not _countries_as_written(turn.question):
        lead = _LEAD.match(turn.question)
        if _own_words(turn.question[lead.end() :] if lead else turn.question) - _GENERIC_STEMS:
            return turn.question
    return turn.interpreted


def _expand(body: str, new: _Entities, turns: Sequence[Turn], elliptical: bool) -> str:
    """`body` with a pronoun replaced by the topic and the key terms of earlier turns added."""
    weights: dict[str, float] = {}
    shown: dict[str, str] = {}
    heads: dict[str, str] = {}  # the noun after a term in its question: "Catapult" -> "centres"
    weight, latest = 1.0, True
    for turn in reversed(turns):
        if turn.abstained:  # a turn that found nothing says nothing about the subject
            continue
        question = _plain(turn.interpreted)
        headings = [s for s in turn.sections[:1] if _content(s) - _GENERIC_STEMS]
        terms = _terms(question, new) + [(t, 0.75) for s in headings for t in _key_terms(s, new)]
        if not _entities(question).names and not headings:  # its own words say what it was about
            words = _content_words(_strip_entities(question, _entities(question)) if new else question)
            terms += [(w, 0.75) for w in words]
        elif elliptical and latest:  # "what about energy?": the rest of the last question still holds
            terms += [(w, 0.75) for w in _content_words(_strip_entities(question, _entities(question)))]
        best: dict[str, float] = {}  # a term the question and a heading both hold counts once
        for term, score in terms:
            term = _as_cited(term, question, turn.cited) if score == 1.0 and not YEAR.fullmatch(term) else term
            key = " ".join(_stem(w) for w in _words(term))
            best[key] = max(best.get(key, 0.0), weight * score)
            shown.setdefault(key, term)
            heads.setdefault(term, _head_after(term, question, turn))
        for key, score in best.items():
            weights[key] = weights.get(key, 0.0) + score
        weight *= RECENCY
        latest = False
    have = _stems(body)
    ranked = [k for k, w in sorted(weights.items(), key=lambda kv: -kv[1]) if w >= MIN_WEIGHT]
    chosen: list[str] = []
    for key in ranked:
        if all(part in have for part in key.split()) or any(shown[key].lower() in c.lower() for c in chosen):
            continue
        chosen.append(shown[key])
    chosen = chosen[:MAX_TERMS]
    if not chosen:
        return body
    text, used = _replace_pronoun(body, chosen[0], heads.get(chosen[0], ""))
    rest = chosen[1:] if used else chosen
    if not rest:
        return text
    end = "?" if text.rstrip().endswith("?") else ""
    return f"{text.rstrip(' ?.!')} ({', '.join(rest)}){end}"


def _as_cited(term: str, question: str, cited: Sequence[str]) -> str:
    """`term` with the word after it in `question` when the cited passages hold the two together
    ('Catapult' in 'How are Catapult centres funded?' -> 'Catapult centres')."""
    after = re.search(rf"(?<!\w){re.escape(term)}\s+(\w+)", question)
    if after is None or after.group(1).lower() in _STOP:
        return term
    phrase = f"{term} {after.group(1)}"
    return phrase if any(phrase.lower() in text.lower() for text in cited) else term


def _terms(question: str, new: _Entities) -> list[tuple[str, float]]:
    """The key terms of an earlier question, each with weight 1."""
    return [(t, 1.0) for t in _key_terms(question, new)]


def _key_terms(text: str, new: _Entities) -> list[str]:
    """Names, years and countries of an earlier text, except those of a kind the new message names
    itself (it replaces them); a new country replaces the names too (they are of the old one)."""
    old = _entities(text)
    terms: list[str] = []
    if not new.names and not new.countries:
        terms += old.names
    if not new.years and not new.countries:
        terms += [y for y in old.years if not any(y in n for n in terms)]
    if not new.countries:
        terms += [c for c in _countries_as_written(text) if not any(c in n for n in terms)]
    return terms


_OWNER = r"\b(?:its|their)\s+(\w+(?:\s+\w+)?)(?=\s*[?.!,]|\s*$)|\b(?:its|their)\s+(\w+)"


def _replace_pronoun(body: str, topic: str, head: str = "") -> tuple[str, bool]:
    """`body` with its first bare pronoun replaced by `topic`: 'When was it adopted?' -> 'When was
    X adopted?', 'What is its budget?' -> 'What is the budget of X?'. A plural pronoun agrees in
    number: it stands for the topic with the noun it came with (`head`), made plural ('When were
    they set up?' after 'How are Catapult centres funded?' -> 'When were Catapult centres set up?')."""
    owner = re.search(_OWNER, body, re.IGNORECASE)
    match = re.search(r"\b(?:it|they|them)\b", body, re.IGNORECASE)
    plural = owner.group(0).lower().startswith("their") if owner else bool(match and match.group(0).lower() != "it")
    if plural and head:
        topic = f"{topic} {_plural(head)}"
    if owner:
        thing = owner.group(1) or owner.group(2)
        return f"{body[: owner.start()]}the {thing} of {topic}{body[owner.end() :]}", True
    if match:
        return body[: match.start()] + topic + body[match.end() :], True
    return body, False


def _head_after(term: str, question: str, turn: Turn) -> str:
    """The noun right after the name `term` in `question` ('PCAST' in 'the 2011 PCAST report' ->
    'report') when the turn's cited passages use it too, else ""."""
    after = re.search(rf"(?<!\w){re.escape(term)}\s+([a-z][a-z-]+)\b", question)
    if after is None or after.group(1) in _STOP or any(w[:1].islower() for w in _words(term)):
        return ""
    evidence = _stems(" ".join((*turn.cited, *turn.sections)))
    return after.group(1) if _stem(after.group(1)) in evidence else ""


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _resolve_definite(body: str, turns: Sequence[Turn]) -> str:
    """`body` with a definite description ("the platform") written as the one name of the latest
    answered turn whose words hold its noun ('the Plattform Industrie 4.0'): coreference by head
    noun, taken only when a single name fits (an ambiguous description is left as it is)."""
    latest = _latest_answered(turns)
    if latest is None:
        return body
    names = list(
        dict.fromkeys(n for text in (latest.interpreted, *latest.sections, *latest.cited) for n in _names(text))
    )
    for match in re.finditer(r"\bthe\s+([a-z][a-z-]+)\b", body):
        noun = match.group(1)
        if noun in _STOP or len(noun) < 4:
            continue
        fits = [n for n in names if len(_words(n)) > 1 and any(_same_word(noun, w) for w in _words(n))]
        fits = [n for n in fits if not any(n != m and n in m for m in fits)]  # the longest form of a name
        if len(fits) == 1:
            return body[: match.start(1)] + fits[0] + body[match.end(1) :]
    return body


def _same_word(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or _stem(a) == _stem(b) or (len(a) >= 6 and _one_off(a, b))


def _country_scope(body: str, new: _Entities, elliptical: bool) -> str | None:
    """The country an elliptical message turns to ("no, I meant Germany", "and in Germany?")."""
    if not elliptical or len(new.countries) != 1 or new.years or _own_words(body) - _GENERIC_STEMS:
        return None
    return _country_as_written(body, new.countries)


def _entities(text: str) -> _Entities:
    years = tuple(YEAR.findall(text))
    return _Entities(years, frozenset(countries_named(text)), tuple(_names(text)))


def _names(text: str) -> list[str]:
    """Runs of capitalized words, acronyms and numbers, joined by 'in', 'of', 'for', 'and': 'Made
    in China 2025', 'Plattform Industrie 4.0'; a country alone and a question's first word are not names."""
    names: list[str] = []
    run: list[str] = []

    def close() -> None:
        while run and run[-1].lower() in _CONNECTORS:
            run.pop()
        name = " ".join(run)
        if run and not (len(run) == 1 and countries_named(name)) and not YEAR.fullmatch(name):
            names.append(name)
        run.clear()

    matches = list(_WORD.finditer(text))
    for i, match in enumerate(matches):
        word = re.sub(r"['’]s$", "", match.group(0))
        if run and text[matches[i - 1].end() : match.start()].strip():
            close()  # punctuation between two words ends a name
        following = matches[i + 1].group(0) if i + 1 < len(matches) else ""
        starts = (word[:1].isupper() or (run and word[:1].isdigit())) and (run or word.lower() not in _NOT_NAME_START)
        joins = run and word.lower() in _CONNECTORS and following[:1].isupper()
        if starts or joins:
            run.append(word)
        else:
            close()
        if word != match.group(0):  # a possessive ends the name: "Germany's High-Tech Strategy"
            close()
    close()
    return names


def _unscoped(question: str) -> str:
    """An earlier reading without its "[Country]" prefix."""
    return re.sub(r"^\[[^\]]*\]\s*", "", question)


def _plain(question: str) -> str:
    """An earlier reading without its scope prefix and the terms added to it."""
    return re.sub(r"\s*\([^()]*\)(\??)$", r"\1", _unscoped(question))


def _strip_entities(text: str, entities: _Entities) -> str:
    for part in (*entities.names, *entities.years, *_countries_as_written(text)):
        text = text.replace(part, " ")
    return text


def _countries_as_written(text: str) -> list[str]:
    """The words of `text` that name a country, as written ("Germany's" -> "Germany")."""
    out = []
    for word in _words(text):
        bare = re.sub(r"['’]s$", "", word)
        if countries_named(bare) and bare not in out:
            out.append(bare)
    return out


def _country_as_written(text: str, codes: frozenset[str]) -> str:
    return next((w for w in _countries_as_written(text) if countries_named(w) & codes), sorted(codes)[0])


def _replace_country(question: str, codes: frozenset[str], new: str) -> str:
    for word in _countries_as_written(question):
        if countries_named(word) & codes:
            return _replace(question, word, new)
    return question


def _replace(text: str, old: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", lambda _: new, text, count=1)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _content_words(text: str) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in _words(text):
        bare = re.sub(r"['’]s$", "", word)
        lower = bare.lower()
        if lower in _STOP or len(lower) < 2 or lower in seen or YEAR.fullmatch(lower):
            continue
        seen.add(lower)
        out.append(bare)
    return out


def _content(text: str) -> set[str]:
    return {_stem(w) for w in _content_words(text)}


def _shares_words(stems: set[str], turns: Sequence[Turn]) -> bool:
    """Whether a word of the message (or one a letter off: 'platform', 'Plattform') is in the earlier turns."""
    context = _stems(" ".join(f"{t.interpreted} {' '.join(t.sections)} {' '.join(t.cited)}" for t in turns))
    return any(s in context or (len(s) >= 6 and any(_one_off(s, c) for c in context)) for s in stems)


def _one_off(a: str, b: str) -> bool:
    """One letter inserted, dropped or changed."""
    if abs(len(a) - len(b)) > 1 or a[:2] != b[:2]:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _words(text)}


def _stem(word: str) -> str:
    return _stemmer().stemWord(re.sub(r"['’]s$", "", word.lower()))


@functools.lru_cache(maxsize=4096)
def countries_named(text: str) -> frozenset[str]:
    """`countries.countries_named`, remembered: it is asked about every word of every turn."""
    return frozenset(_countries_named(text))


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


_GENERIC_STEMS = frozenset(_stem(w) for w in _GENERIC)
