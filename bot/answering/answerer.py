"""The answerer shared by every front end: retrieve, then abstain or quote, and say which.

There is no language model: every sentence of an answer is copied verbatim from a cited
passage, so the bot never states anything its sources do not say.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.answering.abstention import abstention_reason
from bot.answering.answer import Answer, Citation
from bot.answering.countries import match_country, split_scope, without_country_words
from bot.answering.features import question_row, sentence_rows
from bot.answering.followup import Turn, missing_focus, read_in_context
from bot.answering.quotes import RankedSentences, pick_quotes
from bot.answering.scoring import Scores, load_scores
from bot.config import AnswerConfig, Settings
from bot.errors import QuestionError
from embeddings.embedder import Embedder
from embeddings.index.loaded import LoadedIndex
from embeddings.retrieval import Hit, Retriever


@dataclass(frozen=True)
class Assessment:
    """What the answerer found before deciding: each sentence's probability of answering, the rule
    that makes it abstain (or ""), and the learned answerability of the question."""

    hits: list[Hit]
    probabilities: np.ndarray  # one per sentence of `hits`, in hit order then reading order
    rule: str
    answerability: float

    def ranked(self) -> RankedSentences:
        split = np.cumsum([len(h.passage.sentences) for h in self.hits])[:-1]
        return RankedSentences(self.hits, np.split(self.probabilities, split))


class Answerer:
    """Answers questions from a retriever's index; one instance serves Slack, the REPL and the CLI."""

    def __init__(self, retriever: Retriever, settings: AnswerConfig, top_k: int, scores: Scores | None = None) -> None:
        self.retriever = retriever
        self.settings = settings
        self.top_k = top_k
        self._scores = scores

    @functools.cached_property
    def scores(self) -> Scores:
        """The learned scores: those given, else the fitted ones shipped in the package."""
        return self._scores or load_scores()

    def ask(
        self, question: str, k: int | None = None, country: str | None = None, history: Sequence[Turn] = ()
    ) -> Answer:
        """Answer `question` with verbatim quotes and citations, or abstain with the nearest sources.

        `country` (or a "[Germany] ..." prefix on the question) limits the sources to documents
        about that country. `history` holds the earlier turns of the conversation: a question that
        depends on them is searched as rewritten in their context (`Answer.interpreted_question`);
        one that stands alone is answered exactly as it would be without them.
        """
        prefixed, question = split_scope(decode_question(question)[0])  # a Slack "\ud800" too
        question = check_question(question, self.settings.max_question_chars)
        reading = read_in_context(question, history)
        if reading.in_context:  # answered as the rewrite would be alone, so a user can ask it again
            answer = self.ask(reading.question, k, country)
            cited = [f"{' '.join(c.passage.section)} {c.passage.text}" for c in answer.citations]
            focus = "" if answer.abstained else missing_focus(question, cited)
            if focus:  # the topic's passages were found, but not what is asked of it
                hits = [Hit(c.passage, c.score) for c in answer.citations]
                reason = f'its closest passages say nothing of "{focus}"'
                answer = self._abstain(reading.question, hits, reason, answer.index_version, answer.answerability)
            return replace(answer, question=question, interpreted_question=reading.question)
        return self._answer(question, k, country, prefixed)

    def _answer(self, question: str, k: int | None, country: str | None, prefixed: str | None) -> Answer:
        index = self.retriever.index  # one version for the whole answer, even if a reload swaps it
        wanted = country or prefixed
        scope = match_country(wanted, index.countries()) if wanted else None
        query, hits = self.retrieve(question, k, index, scope)  # unscoped when the country is unknown
        version = index.version
        if wanted and scope is None:
            return self._abstain(question, hits, f"it holds no documents about {wanted}", version)
        if not hits:
            return self._abstain(question, hits, "the index holds no passages", version)
        assessed = self.assess(question, query, hits, index)
        reason = assessed.rule
        if not reason and assessed.answerability < self.scores.threshold:
            reason = (
                f"its closest passages do not seem to answer it (answerability {assessed.answerability:.2f}, "
                f"threshold {self.scores.threshold:.2f})"
            )
        if reason:
            return self._abstain(question, hits, reason, version, assessed.answerability)
        picked = pick_quotes(question, assessed.ranked(), self.settings, index)
        if picked.unlisted or not picked.quotes:
            reason = (
                f'its closest passage introduces what it asks for ("{picked.unlisted}") but does not give it'
                if picked.unlisted
                else "its closest passages hold no sentence to quote"
            )
            return self._abstain(question, hits, reason, version, assessed.answerability)
        return Answer(
            question,
            picked.quotes,
            picked.citations,
            False,
            index_version=version,
            answerability=assessed.answerability,
        )

    def assess(self, question: str, query: np.ndarray, hits: list[Hit], index: LoadedIndex) -> Assessment:
        """Score every sentence of `hits` and the question's answerability; apply the rules."""
        rows = sentence_rows(question, query, hits, index)
        probabilities = self.scores.sentence.probability(rows.rows)
        rule = abstention_reason(question, hits, self.settings, index, rows)
        row = question_row(question, rows, probabilities, hits, index, bool(rule))
        return Assessment(hits, probabilities, rule, float(self.scores.question.probability(row[None])[0]))

    def _abstain(self, question: str, hits: list[Hit], reason: str, version: str, answerability: float = 0.0) -> Answer:
        nearest = hits[: self.settings.nearest_sources]
        sources = tuple(Citation(i, h.passage, h.score) for i, h in enumerate(nearest, start=1))
        return Answer(
            question, (), sources, abstained=True, reason=reason, index_version=version, answerability=answerability
        )

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        index: LoadedIndex | None = None,
        country: str | None = None,
        query: np.ndarray | None = None,
    ) -> tuple[np.ndarray, list[Hit]]:
        """The question's embedding and its best passages (of one country's documents, if given);
        acronyms defined in the documents are searched by keyword in both forms (the question's
        embedding is of the question as asked: embedding both forms lowered SciFact's nDCG@10),
        and when the documents carry country metadata, country words are left out of the keyword
        search (countries are then matched by metadata and by the guards, not as keywords).
        `query` is the question's embedding when the caller has it (a batch embeds all at once)."""
        index = index or self.retriever.index
        search_text = index.acronym_usage.expand(question)
        query = self.retriever.embed_query(question) if query is None else query
        depth = max(k or self.top_k, self.settings.max_passages)
        keywords = without_country_words(search_text) if index.countries() else search_text
        return query, self.retriever.search(keywords, query, depth, index, country)


def make_retriever(index: LoadedIndex, embedder: Embedder, settings: Settings) -> Retriever:
    """A retriever configured by the `retrieval:` settings."""
    return Retriever(index, embedder, settings.retrieval)


NOT_UTF8 = "the question held bytes that are not UTF-8; each was replaced with \ufffd"


def decode_question(text: str) -> tuple[str, str | None]:
    """(question, notice): bytes that were not UTF-8 (kept by Python as lone surrogates in argv and
    in `stream_reader`'s lines) replaced with U+FFFD, and a one-line notice when there were any.

    >>> decode_question("What is PCAST\\udcff?")
    ('What is PCAST\ufffd?', 'the question held bytes that are not UTF-8; each was replaced with \ufffd')
    """
    try:
        fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # the bytes as they came
    except UnicodeEncodeError:  # other lone surrogates (e.g. a JSON "\ud800" from Slack): one U+FFFD each
        fixed = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return fixed, (NOT_UTF8 if fixed != text else None)


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
