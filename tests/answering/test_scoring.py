"""The learned scores: the shipped file loads, matches the features, and behaves like a probability."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.answering.features import QUESTION_FEATURES, SENTENCE_FEATURES
from bot.answering.scoring import SCORES_FILE, Logistic, Trees, load_scores, model_from_dict

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_scores_fit_the_features_and_say_how_they_were_fitted() -> None:
    scores = load_scores()
    assert isinstance(scores.sentence, Trees) and isinstance(scores.question, Logistic)
    assert scores.sentence.feature.max() < len(SENTENCE_FEATURES) and scores.sentence.depth >= 1
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


def _stump(missing_left: bool) -> Trees:
    """One tree: feature 0 at most 0.5 goes left (log-odds -2), else right (+2)."""
    return Trees(
        0.0,
        feature=np.array([[0, 0, 0]]),
        threshold=np.array([[0.5, 0.0, 0.0]]),
        left=np.array([[1, 0, 0]]),
        right=np.array([[2, 0, 0]]),
        missing_left=np.array([[missing_left, False, False]]),
        value=np.array([[0.0, -2.0, 2.0]]),
        depth=1,
    )


def test_trees_go_left_at_or_below_the_threshold_and_send_missing_values_where_the_node_says() -> None:
    p = _stump(missing_left=True).probability(np.array([[0.5], [0.51], [np.nan]]))
    assert p[0] == pytest.approx(1 / (1 + np.e**2)) and p[1] == pytest.approx(1 / (1 + np.e**-2))
    assert p[2] == pytest.approx(p[0])
    assert _stump(missing_left=False).probability(np.array([[np.nan]]))[0] == pytest.approx(p[1])
    assert _stump(True).probability(np.zeros((0, 1))).shape == (0,)


def test_trees_survive_the_file_and_refuse_features_they_were_not_given() -> None:
    trees = load_scores().sentence
    rows = np.random.default_rng(0).normal(size=(50, len(SENTENCE_FEATURES)))
    again = model_from_dict(json.loads(json.dumps(trees.to_dict())), len(SENTENCE_FEATURES))
    assert np.array_equal(again.probability(rows), trees.probability(rows))
    with pytest.raises(ValueError, match="outside the 3 features"):
        model_from_dict(trees.to_dict(), 3)


def test_exported_trees_predict_what_scikit_learn_predicts() -> None:
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(ROOT / "bench"))
    from fit_scores import fit_trees

    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 4))
    x[rng.random(x.shape) < 0.05] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) > 0.3).astype(int)
    trees = fit_trees(x, y)  # raises unless its own check against predict_proba passes
    held = rng.normal(size=(500, 4))
    accuracy = ((trees.probability(held) > 0.5) == (held[:, 0] + held[:, 1] * held[:, 2] > 0.3)).mean()
    assert accuracy > 0.85
