"""The answerer shared by every front end: retrieve, then abstain or quote, and say which.

There is no language model: every sentence of an answer is copied verbatim from a cited
passage, so the bot never states anything its sources do not say.
"""

from __future__ import annotations

import numpy as np

from bot.answering.abstention import abstention_reason
from bot.answering.answer import Answer, Citation
from bot.answering.countries import match_country, split_scope, without_country_words
from bot.answering.quotes import pick_quotes
from bot.config import AnswerConfig, Settings
from bot.errors import QuestionError
from embeddings.embedder import Embedder
from embeddings.index.loaded import LoadedIndex
from embeddings.retrieval import Hit, Retriever


class Answerer:
    """Answers questions from a retriever's index; one instance serves Slack, the REPL and the CLI."""

    def __init__(self, retriever: Retriever, settings: AnswerConfig, top_k: int) -> None:
        self.retriever = retriever
        self.settings = settings
        self.top_k = top_k

    def ask(self, question: str, k: int | None = None, country: str | None = None) -> Answer:
        """Answer `question` with verbatim quotes and citations, or abstain with the nearest sources.

        `country` (or a "[Germany] ..." prefix on the question) limits the sources to documents
        about that country.
        """
        prefixed, question = split_scope(decode_question(question)[0])  # a Slack "\ud800" too
        question = check_question(question, self.settings.max_question_chars)
        index = self.retriever.index  # one version for the whole answer, even if a reload swaps it
        wanted = country or prefixed
        scope = match_country(wanted, index.countries()) if wanted else None
        query, hits = self.retrieve(question, k, index, scope)  # unscoped when the country is unknown
        version = index.version
        if wanted and scope is None:
            reason = f"it holds no documents about {wanted}"
        else:
            reason = abstention_reason(question, hits, self.settings, index)
        if reason:
            nearest = hits[: self.settings.nearest_sources]
            sources = tuple(Citation(i, h.passage, h.score) for i, h in enumerate(nearest, start=1))
            return Answer(question, (), sources, abstained=True, reason=reason, index_version=version)
        quotes, citations = pick_quotes(question, query, hits, self.settings, index)
        return Answer(question, quotes, citations, abstained=False, index_version=version)

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
