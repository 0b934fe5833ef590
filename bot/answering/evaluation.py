"""The evaluation set and its figures: hit@1, recall@5, MRR, abstention precision and recall."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.answering.followup import Turn, turn_of
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
        return first_source_holds(self.case.expect, self.answer)

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


@dataclass(frozen=True)
class ConversationTurn:
    """A turn of an evaluation conversation: the case as asked, and its standalone rewrite when it is a follow-up."""

    case: EvalCase
    rewrite: str | None = None
    type: str = ""

    @property
    def follow_up(self) -> bool:
        return self.rewrite is not None


@dataclass(frozen=True)
class ConversationCase:
    id: str
    turns: tuple[ConversationTurn, ...]


@dataclass
class TurnResult:
    """One turn answered in its conversation, alone (the floor) and, for a follow-up, as its rewrite (the ceiling)."""

    conversation: str
    position: int
    turn: ConversationTurn
    in_context: Answer
    alone: Answer
    rewritten: Answer | None

    def holds(self, answer: Answer | None) -> bool:
        """A right outcome: the first source holds the expected phrase, or an unanswerable turn abstained."""
        if answer is None:
            return False
        if not self.turn.case.answerable:
            return answer.abstained
        return first_source_holds(self.turn.case.expect, answer)

    @property
    def changed(self) -> bool:
        """A standalone turn answered otherwise than alone: another reading, answer or source."""
        a, b = self.in_context, self.alone
        keys = [c.passage.key for c in a.citations], [c.passage.key for c in b.citations]
        return a.read_as != b.question or a.text != b.text or keys[0] != keys[1]


@dataclass
class ConversationReport:
    results: list[TurnResult] = field(default_factory=list)

    def follow_ups(self, answerable: bool) -> list[TurnResult]:
        return [r for r in self.results if r.turn.follow_up and r.turn.case.answerable == answerable]

    @property
    def standalone(self) -> list[TurnResult]:
        """Standalone turns with earlier turns before them (a first turn has no context to change it)."""
        return [r for r in self.results if not r.turn.follow_up and r.position > 1]

    def rate(self, which: str, answerable: bool = True) -> float:
        """hit@1 (answerable follow-ups) or abstention (unanswerable ones) of the turns in context,
        alone or rewritten."""
        turns = self.follow_ups(answerable)
        return _ratio(sum(r.holds(getattr(r, which)) for r in turns), len(turns))

    def changed(self) -> list[TurnResult]:
        return [r for r in self.standalone if r.changed]

    def figures(self) -> dict[str, float | int]:
        ceiling = self.rate("rewritten")
        followup = self.rate("in_context")
        return {
            "conversations": len({r.conversation for r in self.results}),
            "follow_ups_answerable": len(self.follow_ups(True)),
            "follow_ups_unanswerable": len(self.follow_ups(False)),
            "standalone_turns": len(self.standalone),
            "follow_up_hit_at_1": followup,
            "no_context_hit_at_1": self.rate("alone"),
            "rewrite_hit_at_1": ceiling,
            "follow_up_over_rewrite": _ratio(followup, ceiling),
            "unanswerable_abstained": self.rate("in_context", False),
            "unanswerable_abstained_no_context": self.rate("alone", False),
            "unanswerable_abstained_rewrite": self.rate("rewritten", False),
            "standalone_changed": len(self.changed()),
            "standalone_hit": _ratio(sum(r.holds(r.in_context) for r in self.standalone), len(self.standalone)),
        }


def first_source_holds(expect: str | None, answer: Answer) -> bool:
    """hit@1: the answer's first cited passage holds the expected phrase (case-insensitive)."""
    if expect is None or answer.abstained or not answer.citations:
        return False
    return expect.lower() in answer.citations[0].passage.text.lower()


def load_conversations(path: Path) -> list[ConversationCase]:
    """Read the conversations YAML; a malformed turn is reported by file, conversation and position."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:
        raise PolicyBotError(f"{path}: cannot read the conversations ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("conversations"), list):
        raise PolicyBotError(f"{path}: expected a 'conversations:' list")
    out: list[ConversationCase] = []
    for n, item in enumerate(raw["conversations"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("turns"), list) or not item["turns"]:
            raise PolicyBotError(f"{path}: conversation #{n} needs 'turns'")
        ident = str(item.get("id", n))
        turns = []
        for i, turn in enumerate(item["turns"], start=1):
            where = f"{path}: conversation {ident} turn {i}"
            if not isinstance(turn, dict) or not str(turn.get("question", "")).strip():
                raise PolicyBotError(f"{where}: needs a 'question'")
            expect, kind = turn.get("expect"), turn.get("kind")
            if (expect is None) == (kind is None):
                raise PolicyBotError(f"{where}: needs an 'expect' phrase or an unanswerable 'kind', not both")
            if kind is not None and kind not in UNANSWERABLE_KINDS:
                raise PolicyBotError(f"{where}: kind must be one of {', '.join(UNANSWERABLE_KINDS)}, got {kind!r}")
            rewrite = turn.get("rewrite")
            if i == 1 and rewrite is not None:
                raise PolicyBotError(f"{where}: a first turn has nothing to follow; drop its 'rewrite'")
            case = EvalCase(str(turn["question"]), None if expect is None else str(expect), kind or "answerable")
            case = EvalCase(case.question, case.expect, case.kind, bool(turn.get("list")))
            turns.append(ConversationTurn(case, None if rewrite is None else str(rewrite), str(turn.get("type", ""))))
        out.append(ConversationCase(ident, tuple(turns)))
    return out


def evaluate_conversations(answerer: Answerer, conversations: list[ConversationCase]) -> ConversationReport:
    """Ask every turn in its conversation, alone, and (follow-ups) as its standalone rewrite."""
    report = ConversationReport()
    for conversation in conversations:
        history: list[Turn] = []
        for position, turn in enumerate(conversation.turns, start=1):
            in_context = answerer.ask(turn.case.question, history=history)
            history.append(turn_of(in_context))
            report.results.append(
                TurnResult(
                    conversation.id,
                    position,
                    turn,
                    in_context,
                    answerer.ask(turn.case.question),
                    answerer.ask(turn.rewrite) if turn.rewrite else None,
                )
            )
    return report


def format_conversation_report(report: ConversationReport) -> str:
    """The conversation figures as text, then the turns that went wrong."""
    f = report.figures()
    lines = [
        f"conversations: {f['conversations']}; follow-ups: {f['follow_ups_answerable']} answerable, "
        f"{f['follow_ups_unanswerable']} unanswerable; standalone turns mid-conversation: {f['standalone_turns']}",
        f"follow-up hit@1       {f['follow_up_hit_at_1']:.3f}   (read in context)",
        f"  with no context     {f['no_context_hit_at_1']:.3f}   (the floor: asked as if alone)",
        f"  rewritten           {f['rewrite_hit_at_1']:.3f}   (the ceiling: the standalone rewrites)",
        f"  in context / rewritten {f['follow_up_over_rewrite']:.3f}",
        f"unanswerable follow-ups abstained {f['unanswerable_abstained']:.3f}  "
        f"(no context {f['unanswerable_abstained_no_context']:.3f}, "
        f"rewritten {f['unanswerable_abstained_rewrite']:.3f})",
        f"standalone turns answered differently because of context: {f['standalone_changed']} "
        f"of {f['standalone_turns']} (their hit: {f['standalone_hit']:.3f})",
    ]
    by_type: dict[str, list[TurnResult]] = {}
    for r in report.results:
        if r.turn.follow_up:
            by_type.setdefault(r.turn.type or "other", []).append(r)
    if by_type:
        lines += ["", "follow-ups by type (right in context / rewritten / alone):"]
        for kind, rs in sorted(by_type.items()):
            counts = [sum(r.holds(getattr(r, w)) for r in rs) for w in ("in_context", "rewritten", "alone")]
            lines.append(f"  {kind:<14} {counts[0]:>2} / {counts[1]:>2} / {counts[2]:>2} of {len(rs)}")
    wrong = [r for r in report.results if r.turn.follow_up and not r.holds(r.in_context)] + report.changed()
    if wrong:
        lines += ["", "turns that went wrong:"]
        for r in wrong:
            what = "changed" if not r.turn.follow_up else ("answered" if not r.turn.case.answerable else "missed")
            lines.append(f"  [{what}] {r.conversation} #{r.position}: {r.turn.case.question}")
            lines.append(f"      read as: {r.in_context.read_as}")
    return "\n".join(lines)
