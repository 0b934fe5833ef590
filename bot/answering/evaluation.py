"""The evaluation set and its figures: hit@1, recall@5, MRR, abstention precision and recall."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from embeddings.errors import PolicyBotError

UNANSWERABLE_KINDS = ("off-topic", "near-miss")


@dataclass(frozen=True)
class EvalCase:
    """A question and what a right answer looks like; `expect` is None for unanswerable ones."""

    question: str
    expect: str | None = None
    kind: str = "answerable"  # or "off-topic", "near-miss"
    wants_list: bool = False

    @property
    def answerable(self) -> bool:
        return self.expect is not None


@dataclass
class CaseResult:
    case: EvalCase
    answer: Answer
    retrieved: list[str]  # passage texts, best first
    best_score: float
    answerability: float  # the learned score the abstention threshold applies to
    rule: str  # a guard's or a missing figure's reason to abstain, which no threshold changes

    @property
    def hit(self) -> bool:
        if self.case.expect is None or self.answer.abstained or not self.answer.citations:
            return False
        return self.case.expect.lower() in self.answer.citations[0].passage.text.lower()

    @property
    def quoted(self) -> bool:
        """The expected phrase is in the answer's quoted sentences, not only in its first source."""
        expect = (self.case.expect or "").lower()
        quoted = " ".join(q.text for q in self.answer.quotes).lower()
        return bool(expect) and not self.answer.abstained and expect in quoted

    def rank(self) -> int | None:
        """1-based rank of the first retrieved passage holding the expected phrase."""
        expect = (self.case.expect or "").lower()
        return next((i for i, text in enumerate(self.retrieved, 1) if expect and expect in text.lower()), None)


@dataclass
class EvalReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def answerable(self) -> list[CaseResult]:
        return [r for r in self.results if r.case.answerable]

    @property
    def unanswerable(self) -> list[CaseResult]:
        return [r for r in self.results if not r.case.answerable]

    def hit_at_1(self) -> float:
        return _ratio(sum(r.hit for r in self.answerable), len(self.answerable))

    def answer_hit(self) -> float:
        return _ratio(sum(r.quoted for r in self.answerable), len(self.answerable))

    def recall_at(self, k: int) -> float:
        return _ratio(sum((r.rank() or k + 1) <= k for r in self.answerable), len(self.answerable))

    def mrr(self) -> float:
        ranks = [r.rank() for r in self.answerable]
        return _ratio(sum(1 / rank for rank in ranks if rank), len(self.answerable))

    def abstention(self, threshold: float | None = None, rules: bool = True) -> tuple[float, float, int, int]:
        """(precision, recall, answerable questions abstained, unanswerable answered), as the bot
        decided, or re-decided for another answerability `threshold`, with or without the rules
        (country/year/name guards, a figure or date no sentence holds)."""

        def abstains(r: CaseResult) -> bool:
            if threshold is None:
                return r.answer.abstained
            return r.answerability < threshold or (rules and bool(r.rule))

        right = sum(abstains(r) for r in self.unanswerable)
        wrong = sum(abstains(r) for r in self.answerable)
        return (
            _ratio(right, right + wrong, empty=1.0),
            _ratio(right, len(self.unanswerable), empty=1.0),
            wrong,
            len(self.unanswerable) - right,
        )

    def auc(self) -> float:
        """ROC AUC of the answerability score: the chance an answerable question scores above an
        unanswerable one (ties count half)."""
        pos = [r.answerability for r in self.answerable]
        neg = [r.answerability for r in self.unanswerable]
        wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
        return _ratio(wins, len(pos) * len(neg), empty=float("nan"))


def _ratio(num: float, den: float, empty: float = 0.0) -> float:
    return num / den if den else empty


def load_eval_set(path: Path) -> list[EvalCase]:
    """Read the evaluation YAML; a malformed entry is reported by file and position."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:
        raise PolicyBotError(f"{path}: cannot read the evaluation set ({exc})") from exc
    if not isinstance(raw, dict):
        raise PolicyBotError(f"{path}: expected 'answerable:' and 'unanswerable:' lists")
    cases: list[EvalCase] = []
    for section in ("answerable", "unanswerable"):
        for i, item in enumerate(raw.get(section) or [], start=1):
            where = f"{path}: {section} #{i}"
            if not isinstance(item, dict) or not str(item.get("question", "")).strip():
                raise PolicyBotError(f"{where}: needs a 'question'")
            if section == "answerable":
                if not str(item.get("expect", "")).strip():
                    raise PolicyBotError(f"{where}: needs an 'expect' phrase")
                cases.append(EvalCase(item["question"], str(item["expect"]), wants_list=bool(item.get("list"))))
            else:
                kind = item.get("kind", "off-topic")
                if kind not in UNANSWERABLE_KINDS:
                    raise PolicyBotError(f"{where}: kind must be one of {', '.join(UNANSWERABLE_KINDS)}, got {kind!r}")
                cases.append(EvalCase(item["question"], None, kind))
    return cases


def evaluate(answerer: Answerer, cases: list[EvalCase], depth: int = 10) -> EvalReport:
    """Ask every question; keep what is needed for the figures and the threshold sweep."""
    report = EvalReport()
    for case in cases:
        index = answerer.retriever.index
        query, hits = answerer.retrieve(case.question, depth, index)
        assessed = answerer.assess(case.question, query, hits[: answerer.top_k], index) if hits else None
        report.results.append(
            CaseResult(
                case=case,
                answer=answerer.ask(case.question),
                retrieved=[h.passage.text for h in hits],
                best_score=max((h.score for h in hits), default=0.0),
                answerability=assessed.answerability if assessed else 0.0,
                rule=assessed.rule if assessed else "no passages",
            )
        )
    return report


def format_report(report: EvalReport, threshold: float, sweep: list[float] | None = None) -> str:
    """The figures as a short text table, then the questions that went wrong."""
    precision, recall, wrong, missed = report.abstention()
    lines = [
        f"questions: {len(report.answerable)} answerable, {len(report.unanswerable)} unanswerable",
        f"hit@1      {report.hit_at_1():.3f}   (first cited passage holds the expected phrase)",
        f"quoted     {report.answer_hit():.3f}   (the quoted sentences hold it)",
        f"recall@5   {report.recall_at(5):.3f}",
        f"MRR@10     {report.mrr():.3f}",
        f"abstention precision {precision:.3f}  recall {recall:.3f}  (answerability threshold {threshold:.2f})",
        f"answerability ROC AUC {report.auc():.3f}",
        f"answerable questions that abstained: {wrong}; unanswerable questions answered: {missed}",
    ]
    if sweep:
        for rules in (True, False):
            what = "or a guard / missing-figure rule fires" if rules else "rules off: the learned score alone"
            lines += ["", f"threshold sweep (abstain when answerability < t, {what}):"]
            lines.append("     t  precision  recall  answerable-abstained  unanswerable-answered")
            for t in sweep:
                p, rec, w, m = report.abstention(t, rules)
                mark = "  <- shipped" if abs(t - threshold) < 0.025 and rules else ""
                lines.append(f"  {t:4.2f}  {p:9.3f}  {rec:6.3f}  {w:20d}  {m:21d}{mark}")
    problems = [r for r in report.answerable if not (r.hit and r.quoted)] + [
        r for r in report.unanswerable if not r.answer.abstained
    ]
    if problems:
        lines += ["", "questions that went wrong:"]
        for r in problems:
            what = "abstained" if r.answer.abstained else "answered" if not r.case.answerable else "missed"
            if r.case.answerable and r.hit and not r.quoted:
                what = "not quoted"
            lines.append(
                f"  [{what}] {r.case.question}  (best {r.best_score:.2f}, answerability {r.answerability:.2f})"
            )
    return "\n".join(lines)
