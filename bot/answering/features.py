"""The measurements the learned scores read: one row per candidate sentence (does it answer the
question?) and one row per question (does the knowledge base answer it?).

Every feature is computed from the question, the retrieved passages and the index; nothing here
is tuned. The weights that combine them live in `scoring.py` and come from `bench/fit_scores.py`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np

from bot.answering.answer_types import AnswerType, classify, holds, new_names
from embeddings.index.loaded import LoadedIndex
from embeddings.passage import Passage
from embeddings.retrieval import Hit

SENTENCE_FEATURES = (
    "cosine",  # sentence embedding . question embedding
    "cosine_gap",  # cosine - best cosine among the candidates
    "coverage",  # share (by rarity) of the question's key terms in the sentence or its headings
    "coverage_gap",
    "own_coverage",  # the same, without the passage's headings
    "window_coverage",  # the sentence with the sentences before and after it
    "bigrams",  # share of the question's adjacent key-term pairs in the sentence
    "passage_dense",  # the retriever's dense score of the sentence's passage
    "passage_lexical",  # its BM25 score, scaled so the best passage has 1
    "passage_rank",  # 1 / (1 + rank of the passage)
    "type_match",  # the sentence holds the kind of answer asked for (a number, a date, a name...)
    "type_asked",  # the question asks for a specific kind
    "type_match_asked",  # both
    "new_names",  # the sentence names something the question does not (answers add information)
    "length",  # log of the sentence's word count
    "first",  # first sentence of its passage
    "heading_only",  # key terms of the question found only in the headings, not the sentence
    "bm25",  # BM25 of the sentence among the candidates (length-normalized), scaled so the best has 1
    "cosine_rank",  # 1 / (1 + rank of its cosine among the candidates)
    "coverage_rank",  # 1 / (1 + rank of its coverage)
    "novelty",  # share of the sentence's key terms the question does not hold
    "names_missing",  # share of the question's capitalized words and numbers absent from its window and headings
    "rarest_missing",  # idf of the rarest question term absent from its window, over the max idf
    "lead_in",  # the sentence ends with a colon: it introduces a list or sections, it does not answer
    "window_cosine",  # cosine of the mean of the sentence's and its neighbours' embeddings
    "window_cosine_gap",
)

QUESTION_FEATURES = (
    # what does not depend on the sentence model
    "top_dense",  # the best passage's dense score
    "top_lexical_raw",  # log(1 + raw BM25 of the best passage): how many rare terms it shares
    "max_coverage",  # best coverage of any candidate passage
    "missing_rare",  # idf of the rarest question term absent from the best passage, over the max idf
    "unknown_terms",  # share of the question's key terms found nowhere in the knowledge base
    "type_found",  # some candidate sentence holds the kind of answer asked for
    "type_asked",
    "guard",  # a rule found a name, country or year the passages do not mention, or a missing figure
    "negation",  # the question holds a negation (not, never, no, without...)
    "terms",  # log of the number of key terms in the question
    # what the sentence model's probabilities decide (see `from_probabilities`)
    "best_sentence",  # the best probability (as log-odds)
    "second_gap",  # its margin over the second best
    "best_coverage",  # key-term coverage of the best sentence's window
    "names_missing",  # share of the question's capitalized words and numbers absent from that window and headings
    "rarest_missing_window",  # idf of the rarest question term absent from that window, over the max idf
)

_NEGATION = re.compile(r"\b(not|never|no|none|nothing|without|n't|cannot|neither|nor)\b", re.IGNORECASE)
_NAME_OR_NUMBER = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w'’-]*|\d[\d,.]*)")
_WORDS = re.compile(r"[a-z0-9]+")


def _names(question: str) -> set[str]:
    """The question's capitalized words (not its first) and numbers, lowercased."""
    return {m.group(1).lower().strip(".,") for m in _NAME_OR_NUMBER.finditer(question.strip())} - {""}


_COLUMN = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
_SPECIFIC = frozenset(AnswerType) - {AnswerType.OTHER, AnswerType.YES_NO, AnswerType.LIST}


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage."""

    rank: int  # the passage's place among the hits
    hit: Hit
    sentence: int  # index into hit.passage.sentences

    @property
    def passage(self) -> Passage:
        return self.hit.passage

    @property
    def text(self) -> str:
        start, end = self.passage.sentences[self.sentence]
        return self.passage.text[start:end]


@dataclass(frozen=True)
class SentenceRows:
    """The candidates of one question, their feature rows, and what was learned on the way."""

    candidates: list[Candidate]
    rows: np.ndarray  # (len(candidates), len(SENTENCE_FEATURES)) float32
    kind: AnswerType


def sentence_rows(question: str, query: np.ndarray, hits: list[Hit], index: LoadedIndex) -> SentenceRows:
    """Feature rows for every sentence of `hits`, in hit order then reading order."""
    lexical = index.lexical
    tokens = lexical.tokens(question)
    terms = frozenset(tokens)
    weight = {t: lexical.idf(t) for t in terms}
    total = sum(weight.values()) or 1.0
    pairs = {(a, b) for a, b in itertools.pairwise(tokens) if a != b}
    kind = classify(question)
    asked = float(kind in _SPECIFIC)
    names = _names(question)
    rarest = max(weight.values(), default=1.0) or 1.0
    candidates: list[Candidate] = []
    raw: list[list[float]] = []
    for rank, hit in enumerate(hits):
        passage = hit.passage
        texts = passage.sentence_texts()
        if not texts:
            continue
        vectors = index.sentence_vectors[passage.id]
        cosines = vectors @ query
        windowed = _window_cosines(vectors, query)
        heading_text = " ".join((passage.title, *passage.section))
        heading = lexical.terms(heading_text) & terms
        heading_words = set(_WORDS.findall(heading_text.lower()))  # a name in the heading is the passage's
        sets = [lexical.terms(t) & terms for t in texts]
        for i, text in enumerate(texts):
            own = sets[i]
            window = own.union(*sets[max(i - 1, 0) : i + 2])
            sentence_tokens = lexical.tokens(text)
            found_pairs = {(a, b) for a, b in itertools.pairwise(sentence_tokens)} & pairs
            match = float(holds(kind, text, question))
            window_text = " ".join(texts[max(i - 1, 0) : i + 2]).lower()
            window_words = set(_WORDS.findall(window_text)) | heading_words
            missing = sum(not (set(_WORDS.findall(n)) <= window_words) for n in names) / len(names) if names else 0.0
            bm25 = _bm25(sentence_tokens, weight)
            novelty = len(set(sentence_tokens) - terms) / len(set(sentence_tokens)) if sentence_tokens else 0.0
            candidates.append(Candidate(rank, hit, i))
            raw.append(
                [
                    float(cosines[i]),
                    0.0,
                    sum(weight[t] for t in own | heading) / total,
                    0.0,
                    sum(weight[t] for t in own) / total,
                    sum(weight[t] for t in window | heading) / total,
                    len(found_pairs) / len(pairs) if pairs else 0.0,
                    hit.score,
                    hit.lexical,
                    1.0 / (1 + rank),
                    match,
                    asked,
                    match * asked,
                    float(bool(new_names(text, question))),
                    math.log1p(len(text.split())),
                    float(i == 0),
                    float(bool(heading - own) and not own),
                    bm25,
                    0.0,
                    0.0,
                    novelty,
                    missing,
                    max((weight[t] for t in terms - window - heading), default=0.0) / rarest,
                    float(text.rstrip().endswith(":")),
                    float(windowed[i]),
                    0.0,
                ]
            )
    rows = np.asarray(raw, dtype=np.float32).reshape(len(raw), len(SENTENCE_FEATURES))
    if len(rows):  # the features relative to the other candidates
        c = _COLUMN
        for value, gap in (
            ("cosine", "cosine_gap"),
            ("coverage", "coverage_gap"),
            ("window_cosine", "window_cosine_gap"),
        ):
            rows[:, c[gap]] = rows[:, c[value]] - rows[:, c[value]].max()
        top = rows[:, c["bm25"]].max()
        rows[:, c["bm25"]] = rows[:, c["bm25"]] / top if top > 0 else 0.0
        rows[:, c["cosine_rank"]] = 1.0 / (1.0 + _rank(rows[:, c["cosine"]]))
        rows[:, c["coverage_rank"]] = 1.0 / (1.0 + _rank(rows[:, c["window_coverage"]]))
    return SentenceRows(candidates, rows, kind)


def _window_cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Per sentence, the cosine of the normalized sum of its own and its neighbours' vectors."""
    padded = np.vstack([np.zeros_like(vectors[:1]), vectors, np.zeros_like(vectors[:1])])
    summed = padded[:-2] + padded[1:-1] + padded[2:]
    norms = np.linalg.norm(summed, axis=1)
    return (summed @ query) / np.where(norms > 0, norms, 1.0)


def _rank(values: np.ndarray) -> np.ndarray:
    """0-based rank of each value, highest first (ties share the better rank)."""
    order = np.sort(values)[::-1]
    return np.searchsorted(-order, -values, side="left").astype(np.float32)


def _bm25(tokens: tuple[str, ...], weight: dict[str, float], k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 of one sentence for the question's terms, sentences of about 20 key terms being average."""
    if not tokens:
        return 0.0
    norm = k1 * (1 - b + b * len(tokens) / 20)
    counts: dict[str, int] = {}
    for t in tokens:
        if t in weight:
            counts[t] = counts.get(t, 0) + 1
    return sum(weight[t] * c * (k1 + 1) / (c + norm) for t, c in counts.items())


def question_row(
    question: str, sentences: SentenceRows, probabilities: np.ndarray, hits: list[Hit], index: LoadedIndex, rule: bool
) -> np.ndarray:
    """The feature row of one question, given its candidates' sentence probabilities."""
    return np.concatenate(
        [question_base(question, sentences, hits, index, rule), from_probabilities(sentences.rows, probabilities)]
    )


def question_base(
    question: str, sentences: SentenceRows, hits: list[Hit], index: LoadedIndex, rule: bool
) -> np.ndarray:
    """The question's features that do not depend on the sentence model."""
    lexical = index.lexical
    terms = lexical.terms(question)
    weight = {t: lexical.idf(t) for t in terms}
    total = sum(weight.values()) or 1.0
    top = hits[0] if hits else None
    in_top = lexical.terms(top.passage.context_text()) if top else frozenset()
    rarest = max(weight.values(), default=1.0) or 1.0
    raw_bm25 = float(lexical.scores(question).max()) if terms else 0.0
    passage_cover = [sum(weight[t] for t in terms & lexical.terms(h.passage.context_text())) / total for h in hits]
    rows = sentences.rows
    row = [
        top.score if top else 0.0,
        math.log1p(raw_bm25),
        max(passage_cover, default=0.0),
        max((weight[t] for t in terms - in_top), default=0.0) / rarest,
        sum(weight[t] for t in terms if not lexical.known(t)) / total if terms else 0.0,
        float(bool(len(rows)) and bool(rows[:, _COLUMN["type_match"]].max() > 0)),
        float(sentences.kind in _SPECIFIC),
        float(rule),
        float(bool(_NEGATION.search(question))),
        math.log1p(len(terms)),
    ]
    return np.asarray(row, dtype=np.float32)


def from_probabilities(rows: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The question's features read off its best sentence (by the sentence model)."""
    if not len(probabilities):
        return np.asarray([_logit(0.0), 0.0, 0.0, 1.0, 1.0], dtype=np.float32)
    order = np.argsort(-probabilities)
    best = rows[order[0]]
    first = _logit(float(probabilities[order[0]]))
    second = _logit(float(probabilities[order[1]])) if len(order) > 1 else _logit(0.0)
    c = _COLUMN
    return np.asarray(
        [first, first - second, best[c["window_coverage"]], best[c["names_missing"]], best[c["rarest_missing"]]],
        dtype=np.float32,
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
