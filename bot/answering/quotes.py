"""Picking the sentences to quote: the best sentences of the top passages, with the sentences they
lean on, a whole list when the question asks for it, and what a quoted lead-in introduces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bot.answering.answer import Citation, Quote
from bot.config import AnswerConfig
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage, Span
from embeddings.retrieval import Hit

_LIST_CUES = re.compile(  # a count is a number on its own: "the 5 goals", not "Industrie 4.0"
    r"\b(all|list|every|each|enumerate|what are|which are|name the|(?<![.\d])\d{1,2}(?![.\d])|two|three|four|five|"
    r"six|seven|eight|nine|ten|objectives|goals|pillars|recommendations|priorities|steps)\b",
    re.IGNORECASE,
)
# A sentence opening with one of these leans on the sentence before it ("It was known as ...",
# "The term was presented ...": a definite noun for a word or idea just named).
_LEANS_BACK = re.compile(r"(It|Its|This|These|They|Their|Those|Such|He|She|His|Her|The (term|name|phrase|concept))\b")


@dataclass
class _Group:
    """Sentences quoted from one passage, in reading order."""

    passage: Passage
    score: float
    spans: list[Span]
    list_item: bool = False
    context: _Group | None = None  # the paragraph before, read first: its sentence is referred to
    heading: str = ""  # quote this heading of the passage's section instead of sentences
    leaning: int = 0  # the first `leaning` spans are quoted only because the answering one refers to them


class Picked(NamedTuple):
    """The quotes and the passages they cite, numbered in the order quoted; `unlisted` is a lead-in
    the answer would have opened with ("The AMNPO has two primary missions:") when the question
    asks for what it introduces and the knowledge base does not give it."""

    quotes: tuple[Quote, ...]
    citations: tuple[Citation, ...]
    unlisted: str = ""


def pick_quotes(question: str, ranked: RankedSentences, settings: AnswerConfig, index: LoadedIndex) -> Picked:
    """The sentences to quote and the passages they cite."""
    citations: list[Citation] = []
    quotes: list[Quote] = []
    groups = _select(question, ranked, settings, index)
    kept, dropped = _without_dangling(groups)
    for group in kept:
        number = len(citations) + 1
        citations.append(Citation(number, group.passage, group.score))
        if group.heading:
            quotes.append(Quote(group.heading, number, list_item=True, heading=True))
        text = group.passage.text
        for start, end in group.spans[group.leaning :]:
            quotes.append(Quote(text[start:end], number, group.list_item))
        # what the answering sentence refers to comes after it: the answer leads, its referent is there to check
        if group.context:
            citations.append(Citation(number + 1, group.context.passage, group.context.score))
            context_text = group.context.passage.text
            quotes.extend(Quote(context_text[a:b], number + 1, context=True) for a, b in group.context.spans)
        quotes.extend(Quote(text[a:b], number, context=True) for a, b in group.spans[: group.leaning])
    led = bool(groups) and groups[0].passage.id in dropped
    unlisted = dropped.get(groups[0].passage.id, "") if led and (_LIST_CUES.search(question) or not quotes) else ""
    return Picked(tuple(quotes), tuple(citations), unlisted)


@dataclass(frozen=True)
class RankedSentences:
    """The retrieved passages with the learned probability that each of their sentences answers."""

    hits: list[Hit]
    probabilities: list[np.ndarray]  # per hit, one per sentence, in reading order

    def best(self) -> float:
        return max((float(p.max()) for p in self.probabilities if len(p)), default=0.0)


def _select(question: str, ranked: RankedSentences, settings: AnswerConfig, index: LoadedIndex) -> list[_Group]:
    """The sentences at least `quote_ratio` of the best one's probability, from at most
    `max_passages` passages, by their best sentence; a whole list when the question asks for all
    of it, or when a quote ends with the sentence introducing it ("... funded from three sources:")."""
    wants_list = bool(_LIST_CUES.search(question))
    key_terms = index.lexical.terms(question)
    floor = ranked.best() * settings.quote_ratio
    # the passages holding a quotable sentence, the one with the best answering sentence first (a
    # lead-in answers only with what it introduces): SQuAD, cross-validated, 0.844 of answerable
    # questions lead with an answering sentence against 0.828 in the retriever's order
    quotable = [i for i, p in enumerate(ranked.probabilities) if len(p) and float(p.max()) >= floor]
    order = sorted(quotable, key=lambda i: -_answering(ranked.hits[i], ranked.probabilities[i]))
    groups: list[_Group] = []
    as_context: dict[int, set[Span]] = {}  # sentences already quoted as a referent
    expanded: set[str] = set()
    budget = settings.max_sentences
    for i in order[: settings.max_passages]:
        hit, scores = ranked.hits[i], ranked.probabilities[i]
        passage = hit.passage
        if budget <= 0:
            break
        if passage.list_id in expanded:
            continue  # quoted already, with its whole list
        if wants_list and passage.list_id and passage.list_id in index.lists:
            expanded.add(passage.list_id)
            groups.extend(_list_groups(index.lists[passage.list_id], hit.score))
            continue
        top = int(np.argmax(scores))  # quoted first: later sentences follow it, earlier ones do not
        chosen = [top] + [int(j) for j in np.argsort(-scores) if j > top and scores[j] >= floor]
        chosen = sorted(chosen[: max(budget, 1)])
        keep = _sentences_kept(index, passage, chosen, key_terms)
        keep = [j for j in keep if passage.sentences[j] not in as_context.get(passage.id, ())]
        last = len(passage.sentences) - 1
        if groups and keep and keep[-1] == last and _is_lead_in(index, passage):
            keep.pop()  # a supporting passage adds sentences, not a lead-in with its list or outline
        if not keep:
            continue
        budget -= len(keep)
        leaning = sum(j < top for j in keep)
        group = _Group(passage, hit.score, [passage.sentences[j] for j in keep], leaning=leaning)
        if keep[0] == 0 and _LEANS_BACK.match(passage.sentence_texts()[0]):
            group.context = _referent(index, passage, hit.score, {g.passage.id for g in groups})
            if group.context:
                as_context[group.context.passage.id] = set(group.context.spans)
        groups.append(group)
        if keep[-1] == last and (introduced := _introduced(index, passage, hit.score)):
            groups.extend(introduced)  # a lead-in ("... two reports:") says nothing alone
            if passage.list_id:
                expanded.add(passage.list_id)
    return groups


def _without_dangling(groups: list[_Group]) -> tuple[list[_Group], dict[int, str]]:
    """The groups without a quoted lead-in that nothing it introduces follows, and the lead-ins
    dropped (by passage id): an answer never ends on, or moves on from, "... two missions:"."""
    kept: list[_Group] = []
    dropped: dict[int, str] = {}
    for k, group in enumerate(groups):
        following = groups[k + 1] if k + 1 < len(groups) else None
        introduced = following is not None and (following.list_item or bool(following.heading))
        spans = group.spans
        if spans and not group.list_item and not introduced:
            start, end = spans[-1]
            if group.passage.text[start:end].rstrip().endswith(":"):
                dropped[group.passage.id] = group.passage.text[start:end].strip()
                spans = spans[:-1]
        if spans or group.heading:
            leaning = group.leaning if group.leaning < len(spans) else 0  # a referent alone is read in order
            kept.append(
                _Group(group.passage, group.score, spans, group.list_item, group.context, group.heading, leaning)
            )
    return kept, dropped


def _answering(hit: Hit, probabilities: np.ndarray) -> float:
    """The best probability among the passage's sentences that can answer on their own: a sentence
    introducing a list or sections ("... two reports:") leads only with what it introduces."""
    texts = hit.passage.sentence_texts()
    alone = [float(p) for p, t in zip(probabilities, texts, strict=True) if not t.rstrip().endswith(":")]
    return max(alone, default=0.0)


def _sentences_kept(index: LoadedIndex, passage: Passage, chosen: list[int], key_terms: frozenset[str]) -> list[int]:
    """The chosen sentences with those they lean on or that continue them; a lead-in (of a list
    or of the sections below) that only continues a chosen sentence comes, with what it
    introduces, only if it holds a key term of the question: "Which centres make up ...?"
    wants "It brings together seven research centres:", "Who takes part ...?" does not want
    "Its work is organised around themes:"."""
    sentences = passage.sentence_texts()
    keep = _with_neighbours(sentences, chosen)
    last = len(sentences) - 1
    lead_in = last in keep and last not in chosen and _is_lead_in(index, passage)
    if lead_in and not _own_terms(index, passage, key_terms) & index.lexical.terms(sentences[last]):
        keep.remove(last)
    return keep


def _own_terms(index: LoadedIndex, passage: Passage, key_terms: frozenset[str]) -> frozenset[str]:
    """The question's key terms that the passage's headings do not hold (those every sentence
    under the heading shares)."""
    return key_terms - index.lexical.terms(" ".join((passage.title, *passage.section)))


def _with_neighbours(sentences: list[str], keep: list[int]) -> list[int]:
    """Kept sentences with those they lean on or that continue them: a kept sentence opening with
    a pronoun brings the sentences back to the one it refers to, and a kept sentence brings the
    next one when that opens with a pronoun ("Innovate UK is ... . It was known as ... until 2014")
    or with "The term" and the like ("Industrie 4.0 describes ... . The term was presented ...")."""
    chosen = set(keep)
    for i in keep:
        j = i
        while j > 0 and _LEANS_BACK.match(sentences[j]):
            j -= 1
            chosen.add(j)
        if i + 1 < len(sentences) and _LEANS_BACK.match(sentences[i + 1]):
            chosen.add(i + 1)
    return sorted(chosen)


def _referent(index: LoadedIndex, passage: Passage, score: float, quoted: set[int]) -> _Group | None:
    """The end of the paragraph before `passage` when its first sentence refers back to it
    ("... the Catapult network. | It was set up in 2011"), unless that paragraph is quoted anyway."""
    before = index.preceding(passage)
    if before is None or before.id in quoted:
        return None
    sentences = before.sentence_texts()
    keep = _with_neighbours(sentences, [len(sentences) - 1])
    return _Group(before, score, [before.sentences[i] for i in keep])


def _is_lead_in(index: LoadedIndex, passage: Passage) -> bool:
    """The passage ends with a colon introducing its list or the sections right below it."""
    if passage.kind != "paragraph" or not passage.text.rstrip().endswith(":"):
        return False
    return passage.list_id in index.lists or bool(index.subsections(passage))


def _introduced(index: LoadedIndex, passage: Passage, score: float) -> list[_Group]:
    """What a lead-in introduces: the items of its list, or the headings of the sections right
    below it, each its own group; nothing for a passage that is not a lead-in."""
    if not _is_lead_in(index, passage):
        return []
    if passage.list_id in index.lists:
        return [g for g in _list_groups(index.lists[passage.list_id], score) if g.list_item]
    return [_Group(first, score, [], heading=heading) for heading, first in index.subsections(passage)]


def _list_groups(members: list[Passage], score: float) -> list[_Group]:
    """A whole list in reading order: the last sentence of its lead-in, then every item."""
    groups = []
    for passage in members:
        if passage.kind == "list_item":
            groups.append(_Group(passage, score, list(passage.sentences), list_item=True))
        else:
            groups.append(_Group(passage, score, [passage.sentences[-1]]))
    return groups
