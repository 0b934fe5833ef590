"""The two learned scores: "this sentence answers the question" and "the knowledge base answers it".

Both are logistic models over the rows of `features.py`; their coefficients, the abstention
threshold and how they were fitted are in `scores.json` beside this file, written by
`bench/fit_scores.py` (cross-validated by article on open-retrieval SQuAD 2.0 plus the
project's policy sets). Only numpy runs here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.answering.features import QUESTION_FEATURES, SENTENCE_FEATURES

SCORES_FILE = Path(__file__).with_name("scores.json")
FORMAT = 1


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic model: standardize, then weights and intercept."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) for each row (an empty array for no rows)."""
        if not len(rows):
            return np.zeros(0, dtype=np.float64)
        z = ((rows - self.mean) / self.scale) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], width: int) -> Logistic:
        mean, scale, weights = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights"))
        if any(p.shape != (width,) for p in (mean, scale, weights)):
            raise ValueError(f"expected {width} values for each of mean, scale and weights")
        return cls(mean, scale, weights, float(data["intercept"]))


@dataclass(frozen=True)
class Scores:
    """The sentence model, the question model and the abstention threshold on the latter."""

    sentence: Logistic
    question: Logistic
    threshold: float
    about: dict[str, Any]  # how and on what the models were fitted, for `policybot eval`

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sentence_features": list(SENTENCE_FEATURES),
            "question_features": list(QUESTION_FEATURES),
            "sentence": self.sentence.to_dict(),
            "question": self.question.to_dict(),
            "threshold": self.threshold,
            "about": self.about,
        }


def load_scores(path: Path = SCORES_FILE) -> Scores:
    """The fitted scores; a file from another feature set is refused with what to run."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if (
        data.get("format") != FORMAT
        or data.get("sentence_features") != list(SENTENCE_FEATURES)
        or data.get("question_features") != list(QUESTION_FEATURES)
    ):
        raise ValueError(f"{path} was fitted for other features; refit it with: python bench/fit_scores.py")
    return Scores(
        Logistic.from_dict(data["sentence"], len(SENTENCE_FEATURES)),
        Logistic.from_dict(data["question"], len(QUESTION_FEATURES)),
        float(data["threshold"]),
        dict(data.get("about", {})),
    )
