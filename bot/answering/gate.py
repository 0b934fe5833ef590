"""The evaluation gate: a new index version is published only if it answers the evaluation set
about as well as the current one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.answering.answerer import Answerer, make_retriever
from bot.answering.evaluation import CaseResult, EvalCase, EvalReport, evaluate, load_eval_set
from bot.config import Settings
from embeddings.embedder import Embedder
from embeddings.errors import IndexError_
from embeddings.index.loaded import LoadedIndex, load_index, load_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scores:
    hit_at_1: float
    abstention_accuracy: float  # share of questions whose answer/abstain decision was right


def scores(report: EvalReport) -> Scores:
    right = sum(r.answer.abstained != r.case.answerable for r in report.results)
    return Scores(report.hit_at_1(), right / len(report.results) if report.results else 1.0)


class EvaluationGate:
    """Callable for `build_index(gate=...)`: (new version folder) -> (publish?, report)."""

    def __init__(self, settings: Settings, embedder: Embedder, cases: list[EvalCase]) -> None:
        self.settings = settings
        self.embedder = embedder
        self.cases = cases

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> EvaluationGate | None:
        path = settings.indexing.gate_eval_set
        if path is None:
            return None
        return cls(settings, embedder, load_eval_set(path))

    def _evaluate(self, index: LoadedIndex) -> EvalReport:
        retriever = make_retriever(index, self.embedder, self.settings)
        return evaluate(Answerer(retriever, self.settings.answer, self.settings.retrieval.top_k), self.cases)

    def __call__(self, version_dir: Path) -> tuple[bool, str]:
        search, store = self.settings.vector_index, self.settings.vector_store
        new_report = self._evaluate(load_version(version_dir, search=search, store=store))
        new = scores(new_report)
        try:
            current = load_index(
                self.settings.index_dir, search=search, token=self.settings.vector_store.token
            )  # may be in the other store
        except IndexError_:
            return (
                True,
                f"gate: hit@1 {new.hit_at_1:.3f}, abstention accuracy {new.abstention_accuracy:.3f} (first index)",
            )
        old_report = self._evaluate(current)
        old = scores(old_report)
        margin = self.settings.indexing.gate_max_drop
        ok = new.hit_at_1 >= old.hit_at_1 - margin and new.abstention_accuracy >= old.abstention_accuracy - margin
        lines = [
            f"gate: hit@1 {old.hit_at_1:.3f} -> {new.hit_at_1:.3f}, abstention accuracy "
            f"{old.abstention_accuracy:.3f} -> {new.abstention_accuracy:.3f} (allowed drop {margin:.2f}): "
            + ("passed" if ok else "FAILED")
        ]
        lines += [f"  worse: {q}" for q in _worse(old_report, new_report)]
        return ok, "\n".join(lines)


def _worse(old: EvalReport, new: EvalReport) -> list[str]:
    """Questions answered right by the current version and wrong by the new one."""

    def right(r: CaseResult) -> bool:
        return r.hit if r.case.answerable else r.answer.abstained

    return [b.case.question for a, b in zip(old.results, new.results, strict=True) if right(a) and not right(b)]
