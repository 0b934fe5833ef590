"""The learned scores: the shipped file loads, matches the features, and behaves like a probability."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bot.answering.features import QUESTION_FEATURES, SENTENCE_FEATURES
from bot.answering.scoring import SCORES_FILE, Logistic, load_scores


def test_the_shipped_scores_fit_the_features_and_say_how_they_were_fitted() -> None:
    scores = load_scores()
    assert scores.sentence.weights.shape == (len(SENTENCE_FEATURES),)
    assert scores.question.weights.shape == (len(QUESTION_FEATURES),)
    assert 0.0 < scores.threshold < 1.0
    assert "bench/fit_scores.py" in scores.about["command"]


def test_more_of_what_answers_raises_the_sentence_probability() -> None:
    scores = load_scores()
    low = np.zeros((1, len(SENTENCE_FEATURES)))
    high = low.copy()
    for name in ("cosine", "coverage", "window_coverage"):
        high[0, SENTENCE_FEATURES.index(name)] = 0.8
    p_low, p_high = scores.sentence.probability(np.vstack([low, high]))
    assert 0.0 <= p_low < p_high <= 1.0


def test_a_logistic_model_gives_probabilities_and_none_for_no_rows() -> None:
    model = Logistic(np.zeros(2), np.ones(2), np.array([1.0, -1.0]), 0.0)
    p = model.probability(np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]]))
    assert p[0] == pytest.approx(0.5) and p[1] > 0.99 and p[2] < 0.01
    assert model.probability(np.zeros((0, 2))).shape == (0,)


def test_scores_fitted_for_other_features_are_refused_with_what_to_run(tmp_path: Path) -> None:
    data = json.loads(SCORES_FILE.read_text(encoding="utf-8"))
    data["sentence_features"] = data["sentence_features"][:-1]
    path = tmp_path / "scores.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("refit it with: python bench/fit_scores.py")):
        load_scores(path)
