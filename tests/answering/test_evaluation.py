"""The evaluation set's figures, as `policybot eval` reports them."""

from __future__ import annotations

import pytest

from bot.answering.evaluation import EvalReport

pytestmark = pytest.mark.slow


def test_evaluation_set_reaches_the_targets(eval_report: EvalReport) -> None:
    _, _, answerable_abstained, _ = eval_report.abstention()
    assert len(eval_report.answerable) >= 25 and len(eval_report.unanswerable) >= 10
    assert eval_report.hit_at_1() >= 0.9
    assert all(r.answer.abstained for r in eval_report.unanswerable if r.case.kind == "off-topic")
    assert answerable_abstained <= 1
