"""The answerer shared by every front end: retrieve, pick sentences, cite them, or abstain.

There is no language model: every sentence of an answer is copied verbatim from a cited
passage, so the bot never states anything its sources do not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.answering.abstention import (
    countries_named,
    iso_code,
    unknown_names,
    unsupported_country,
    unsupported_year,
    without_country_words,
)
from bot.answering.answer import Answer, Citation, Quote
from bot.config import AnswerConfig
from bot.errors import QuestionError
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage, Span
from embeddings.retrieval import Hit, Retriever

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


class Answerer:
    """Answers questions from a retriever's index; one instance serves Slack, the REPL and the CLI."""

    def __init__(self, retriever: Retriever, settings: AnswerConfig, top_k: int = 5) -> None:
        self.retriever = retriever
        self.settings = settings
        self.top_k = top_k

    def ask(self, question: str, k: int | None = None, country: str | None = None) -> Answer:
        """Answer `question` with verbatim quotes and citations, or abstain with the nearest sources.

        `country` (or a "[Germany] ..." prefix on the question) limits the sources to documents
        about that country.
        """
        prefixed, question = split_scope(question)
        question = check_question(question, self.settings.max_question_chars)
        index = self.retriever.index  # one version for the whole answer, even if a reload swaps it
        wanted = country or prefixed
        scope = match_country(wanted, index.countries()) if wanted else None
        query, hits = self.retrieve(question, k, index, scope)  # unscoped when the country is unknown
        version = index.version
        if wanted and scope is None:
            reason = f"it holds no documents about {wanted}"
        else:
            reason = self.abstention_reason(question, hits, index=index)
        if reason:
            nearest = hits[: self.settings.nearest_sources]
            sources = tuple(Citation(i, h.passage, h.score) for i, h in enumerate(nearest, start=1))
            return Answer(question, (), sources, abstained=True, reason=reason, index_version=version)
        groups = self._select(question, query, self._candidates(hits), index)
        citations: list[Citation] = []
        quotes: list[Quote] = []
        for group in groups:  # citations by relevance, quotes in reading order
            number = len(citations) + 1
            citations.append(Citation(number, group.passage, group.score))
            if group.context:
                citations.append(Citation(number + 1, group.context.passage, group.context.score))
                quotes.extend(Quote(group.context.passage.text[a:b], number + 1) for a, b in group.context.spans)
            if group.heading:
                quotes.append(Quote(group.heading, number, list_item=True, heading=True))
            for start, end in group.spans:
                quotes.append(Quote(group.passage.text[start:end], number, group.list_item))
        return Answer(question, tuple(quotes), tuple(citations), abstained=False, index_version=version)

    def retrieve(
        self, question: str, k: int | None = None, index: LoadedIndex | None = None, country: str | None = None
    ) -> tuple[np.ndarray, list[Hit]]:
        """The question's embedding and its best passages (of one country's documents, if given);
        acronyms defined in the documents are searched by keyword in both forms (the question's
        embedding is of the question as asked: embedding both forms lowered SciFact's nDCG@10),
        and when the documents carry country metadata, country words are left out of the keyword
        search (countries are then matched by metadata and by the guards, not as keywords)."""
        index = index or self.retriever.index
        search_text = index.acronym_usage.expand(question)
        query = self.retriever.embed_query(question)
        depth = max(k or self.top_k, self.settings.max_passages)
        keywords = without_country_words(search_text) if index.countries() else search_text
        return query, self.retriever.search(keywords, query, depth, index, country)

    def abstention_reason(
        self, question: str, hits: list[Hit], threshold: float | None = None, index: LoadedIndex | None = None
    ) -> str:
        """Why the knowledge base cannot answer, or "" when it can."""
        threshold = self.settings.abstain_below if threshold is None else threshold
        if not hits:
            return "the index holds no passages"
        best = max(h.score for h in hits)
        if best < threshold:
            return f"no passage is close enough: best match {best:.2f}, threshold {threshold:.2f}"
        guard = self.guard_reason(question, hits, index)  # the most specific reason first
        if not guard and best < self.settings.support_below:
            coverage = self.term_coverage(question, hits, index)
            if coverage < self.settings.min_term_coverage:
                return f"its closest passages (best match {best:.2f}) hold few of the question's key terms"
        return guard

    def term_coverage(self, question: str, hits: list[Hit], index: LoadedIndex | None = None) -> float:
        """The largest share (weighted by rarity) of the question's key terms that one of the top
        passages holds; the second abstention signal, beside the dense score."""
        index = index or self.retriever.index
        lexical = index.lexical
        terms = lexical.terms(index.acronym_usage.expand(question))
        total = sum(lexical.idf(t) for t in terms)
        if not total:
            return 0.0
        shares = (
            sum(lexical.idf(t) for t in terms & lexical.terms(h.passage.context_text())) / total
            for h in hits[: self.settings.max_passages]
        )
        return max(shares, default=0.0)

    def guard_reason(self, question: str, hits: list[Hit], index: LoadedIndex | None = None) -> str:
        """Abstain when the question names a country, year or name the sources lack."""
        index = index or self.retriever.index
        names = unknown_names(question, index.vocabulary)
        if names:
            return f"no document mentions {', '.join(names)}"
        country = unsupported_country(question, index.countries())
        if country:
            return f"it holds no documents about {country}"
        year = unsupported_year(question, (h.passage for h in self._candidates(hits)))
        if year:
            return f"its closest passages say nothing about {year}"
        return ""

    def _candidates(self, hits: list[Hit]) -> list[Hit]:
        """The top hit, and the next few when their dense score is nearly as good (whatever the fusion)."""
        floor = hits[0].score - self.settings.passage_margin
        return [hits[0]] + [h for h in hits[1 : self.settings.max_passages] if h.score >= floor]

    def _select(self, question: str, query: np.ndarray, candidates: list[Hit], index: LoadedIndex) -> list[_Group]:
        """Pick the best sentences; expand a list when the question asks for all of it, or when a
        quote ends with the sentence introducing it ("... funded from three sources:")."""
        wants_list = bool(_LIST_CUES.search(question))
        key_terms = index.lexical.terms(question)
        scored = [(hit, self._sentence_scores(index, hit.passage, query, key_terms)) for hit in candidates]
        best = max(float(s.max()) for _, s in scored)
        groups: list[_Group] = []
        as_context: dict[int, set[Span]] = {}  # sentences already quoted as a referent
        expanded: set[str] = set()
        budget = self.settings.max_sentences
        for rank, (hit, scores) in enumerate(scored):
            passage = hit.passage
            if passage.list_id in expanded:
                continue  # quoted already, with its whole list
            if wants_list and passage.list_id and passage.list_id in index.lists:
                expanded.add(passage.list_id)
                groups.extend(_list_groups(index.lists[passage.list_id], hit.score))
                continue
            chosen = [i for i in np.argsort(-scores) if scores[i] >= best - self.settings.sentence_margin]
            if rank == 0 and not chosen:
                chosen = [int(np.argmax(scores))]
            chosen = sorted(chosen[: max(budget, 1 if rank == 0 else 0)])
            keep = self._sentences_kept(index, passage, chosen, key_terms)
            keep = [i for i in keep if passage.sentences[i] not in as_context.get(passage.id, ())]
            last = len(passage.sentences) - 1
            if groups and keep and keep[-1] == last and _is_lead_in(index, passage):
                keep.pop()  # a supporting passage adds sentences, not a lead-in with its list or outline
            if not keep:
                continue
            budget -= len(keep)
            group = _Group(passage, hit.score, [passage.sentences[i] for i in keep])
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

    def _sentences_kept(
        self, index: LoadedIndex, passage: Passage, chosen: list[int], key_terms: frozenset[str]
    ) -> list[int]:
        """The chosen sentences with those they lean on or that continue them; a lead-in (of a list
        or of the sections below) that only continues a chosen sentence comes, with what it
        introduces, only if it holds a key term of the question: "Which centres make up ...?"
        wants "It brings together seven research centres:", "Who takes part ...?" does not want
        "Its work is organised around themes:"."""
        sentences = passage.sentence_texts()
        keep = _with_neighbours(sentences, chosen)
        last = len(sentences) - 1
        lead_in = last in keep and last not in chosen and _is_lead_in(index, passage)
        if lead_in and not self._own_terms(index, passage, key_terms) & index.lexical.terms(sentences[last]):
            keep.remove(last)
        return keep

    def _own_terms(self, index: LoadedIndex, passage: Passage, key_terms: frozenset[str]) -> frozenset[str]:
        """The question's key terms that the passage's headings do not hold (those every sentence
        under the heading shares)."""
        return key_terms - index.lexical.terms(" ".join((passage.title, *passage.section)))

    def _sentence_scores(
        self, index: LoadedIndex, passage: Passage, query: np.ndarray, key_terms: frozenset[str]
    ) -> np.ndarray:
        """Cosine of each sentence to the question, plus a bonus for holding the question's key terms
        (weighted by rarity, so 'industrial' counts for more than 'policy').

        Terms of the passage's headings are left out: every sentence under a heading shares them.
        """
        scores = index.sentence_vectors[passage.id] @ query
        lexical = index.lexical
        terms = self._own_terms(index, passage, key_terms)
        if not terms or self.settings.term_weight == 0:
            return scores
        total = sum(lexical.idf(t) for t in terms)
        overlap = [sum(lexical.idf(t) for t in terms & lexical.terms(s)) / total for s in passage.sentence_texts()]
        return scores + self.settings.term_weight * np.asarray(overlap, dtype=np.float32)


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


def check_question(question: str, max_chars: int) -> str:
    """The question, trimmed; empty or over-long questions get a short, clear hint."""
    text = " ".join(question.split()) if len(question) <= max_chars * 2 else question.strip()
    if not text:
        raise QuestionError(
            'Ask a question in words, for example: policybot ask "What pillars do the AMP recommendations rest on?"'
        )
    if len(text) > max_chars:
        raise QuestionError(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. Ask it in a sentence or two."
        )
    return text
