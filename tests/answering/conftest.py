"""The evaluation set answered by the real answerer, once for every test module that reads it."""

from __future__ import annotations

import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import EvalReport, evaluate, load_eval_set
from tests.conftest import EVAL_SET


@pytest.fixture(scope="session")
def eval_report(answerer: Answerer) -> EvalReport:
    return evaluate(answerer, load_eval_set(EVAL_SET))
