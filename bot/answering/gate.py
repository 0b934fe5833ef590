"""The evaluation gate: a new index version is published only if it answers the evaluation set
about as well as the current one, telling new coverage from harm.

The set was written for the current documents, so a question whose answer now comes from text
the current version does not hold is judged apart from the others:

- newly covered: a `near-miss` unanswerable question ("What are Germany's key manufacturing
  policies?") that the new version answers, its first source text the current version does not
  hold (a document added, or a passage added or edited). Not a regression: the gate prints it as
  a line to paste under `answerable:`, with an `expect:` phrase from the quoted sentence.
- moved: an answerable question whose first source is now a document the current version does
  not hold (its text too: a renamed file is not new), while the passage the current version cited
  first is still there unchanged: the new page outranks the old answer, which was not harmed.
  Reported with whether the expected phrase is there.

hit@1 and abstention accuracy of both versions are then compared over the other questions,
strictly, and a drop of more than `indexing.gate_max_drop` refuses the version. So these stay
regressions: an answered question that now abstains, a hit that is now a miss on the old
documents (or on an edited passage of one: editing what the set checks is what the gate is
for), an unanswerable question now answered from text the current version holds, and an
`off-topic` one answered at all (new documents cannot make "How do I bake bread?" answerable).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.answering.answerer import Answerer, make_retriever
from bot.answering.evaluation import CaseResult, EvalCase, EvalReport, evaluate, load_eval_set
from bot.config import Settings
from embeddings.embedder import Embedder, RememberingEmbedder
from embeddings.errors import IndexError_
from embeddings.index.loaded import LoadedIndex, load_index, load_version
from embeddings.passage import Passage

log = logging.getLogger(__name__)

EXPECT_WORDS = 6  # words of the quoted sentence suggested as the `expect:` phrase


@dataclass(frozen=True)
class Scores:
    hit_at_1: float
    abstention_accuracy: float  # share of questions whose answer/abstain decision was right


def scores(results: list[CaseResult]) -> Scores:
    """hit@1 over the answerable questions of `results`, abstention accuracy over all of them."""
    answerable = [r for r in results if r.case.answerable]
    hit = sum(r.hit for r in answerable) / len(answerable) if answerable else 0.0  # as `policybot eval`
    right = sum(r.answer.abstained != r.case.answerable for r in results)
    return Scores(hit, right / len(results) if results else 1.0)


@dataclass
class Comparison:
    """The questions of two runs of the set, in pairs (current, new), sorted by the rule above."""

    counted: list[tuple[CaseResult, CaseResult]] = field(default_factory=list)
    moved: list[CaseResult] = field(default_factory=list)  # new version's results
    covered: list[CaseResult] = field(default_factory=list)

    @property
    def old(self) -> Scores:
        return scores([a for a, _ in self.counted])

    @property
    def new(self) -> Scores:
        return scores([b for _, b in self.counted])

    def worse(self) -> list[str]:
        """Counted questions answered right by the current version and wrong by the new one."""
        return [b.case.question for a, b in self.counted if _right(a) and not _right(b)]


def compare(old: EvalReport, new: EvalReport, old_index: LoadedIndex, new_index: LoadedIndex) -> Comparison:
    """Sort each question as counted, moved or newly covered (see the module docstring)."""
    old_texts = {p.text for p in old_index.passages.values()}
    new_texts = {p.text for p in new_index.passages.values()}
    comparison = Comparison()
    for a, b in zip(old.results, new.results, strict=True):
        source, before = _first_source(b), _first_source(a)
        fresh = source is not None and source.text not in old_texts
        if fresh and b.case.kind == "near-miss":
            comparison.covered.append(b)
        elif (
            fresh
            and b.case.answerable
            and source is not None
            and source.doc not in old_index.meta.documents
            and (before is None or before.text in new_texts)
        ):
            comparison.moved.append(b)
        else:
            comparison.counted.append((a, b))
    return comparison


class EvaluationGate:
    """Callable for `build_index(gate=...)`: (new version folder) -> (publish?, report)."""

    def __init__(self, settings: Settings, embedder: Embedder, cases: list[EvalCase], path: Path) -> None:
        self.settings = settings
        self.embedder = RememberingEmbedder(embedder)  # each question is asked of two versions, twice
        self.cases = cases
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> EvaluationGate | None:
        path = settings.indexing.gate_eval_set
        if path is None:
            return None
        return cls(settings, embedder, load_eval_set(path), path)

    def _evaluate(self, index: LoadedIndex) -> EvalReport:
        retriever = make_retriever(index, self.embedder, self.settings)
        return evaluate(Answerer(retriever, self.settings.answer, self.settings.retrieval.top_k), self.cases)

    def __call__(self, version_dir: Path) -> tuple[bool, str]:
        search, store = self.settings.vector_index, self.settings.vector_store
        candidate = load_version(version_dir, search=search, store=store)
        new_report = self._evaluate(candidate)
        try:
            current = load_index(
                self.settings.index_dir, search=search, token=self.settings.vector_store.token
            )  # may be in the other store
        except IndexError_:
            new = scores(new_report.results)
            return (
                True,
                f"gate: hit@1 {new.hit_at_1:.3f}, abstention accuracy {new.abstention_accuracy:.3f} (first index)",
            )
        comparison = compare(self._evaluate(current), new_report, current, candidate)
        old, new = comparison.old, comparison.new
        margin = self.settings.indexing.gate_max_drop
        ok = new.hit_at_1 >= old.hit_at_1 - margin and new.abstention_accuracy >= old.abstention_accuracy - margin
        apart = len(comparison.moved) + len(comparison.covered)
        lines = [
            f"gate: hit@1 {old.hit_at_1:.3f} -> {new.hit_at_1:.3f}, abstention accuracy "
            f"{old.abstention_accuracy:.3f} -> {new.abstention_accuracy:.3f} (allowed drop {margin:.2f}"
            + (f"; {apart} question{'s' * (apart > 1)} answered from new text not counted" if apart else "")
            + "): "
            + ("passed" if ok else "FAILED")
        ]
        lines += [f"  worse: {q}" for q in comparison.worse()]
        lines += [_moved_line(r) for r in comparison.moved]
        if comparison.covered:
            lines.append(f"newly covered: move these from `unanswerable:` to `answerable:` in {self.path}")
            lines += [suggestion(r) for r in comparison.covered]
        return ok, "\n".join(lines)


def suggestion(result: CaseResult) -> str:
    """An entry of the evaluation set's `answerable:` list for a newly covered question, in YAML
    flow style (JSON strings are YAML), with the document it is answered from as a comment:
    `  - {question: "What is Made Smarter?", expect: "Made Smarter is a programme"}  # uk/page.md`
    """
    source = _first_source(result)
    if source is None:
        raise ValueError(f"not answered: {result.case.question}")
    quoted = [q.text for q in result.answer.quotes if q.citation == 1 and not q.heading]
    phrase = expect_phrase(quoted[0] if quoted else source.text)
    entry = f"question: {json.dumps(result.case.question, ensure_ascii=False)}, "
    entry += f"expect: {json.dumps(phrase, ensure_ascii=False)}"
    return f"  - {{{entry}}}  # {source.doc}"


def expect_phrase(sentence: str, words: int = EXPECT_WORDS) -> str:
    """The first few words of a quoted sentence, without the punctuation they end on: a phrase the
    cited passage holds (case and spacing as quoted).

    >>> expect_phrase("The High-Tech Strategy, launched in 2006, brought together ministries.")
    'The High-Tech Strategy, launched in 2006'
    """
    found = list(re.finditer(r"\S+", sentence))[:words]
    if not found:
        return sentence.strip()
    return sentence[found[0].start() : found[-1].end()].rstrip(".,;:!?)\"'”’")


def _moved_line(result: CaseResult) -> str:
    source = _first_source(result)
    doc = source.doc if source is not None else "?"
    found = "still holds" if result.hit else "does not hold"
    return f"  moved: {result.case.question} (now cites {doc}, which {found} {result.case.expect!r})"


def _first_source(result: CaseResult) -> Passage | None:
    """The passage an answer cites first; None when the answer abstained."""
    if result.answer.abstained or not result.answer.citations:
        return None
    return result.answer.citations[0].passage


def _right(r: CaseResult) -> bool:
    return r.hit if r.case.answerable else r.answer.abstained
