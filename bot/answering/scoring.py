"""The two learned scores: "this sentence answers the question" and "the knowledge base answers it".

The sentence score is a small ensemble of gradient-boosted trees, the question score a logistic
model, both over the rows of `features.py`; their parameters, the abstention threshold and how
they were fitted are in `scores.json` beside this file, written by `bench/fit_scores.py`
(cross-validated by article on open-retrieval SQuAD 2.0 plus the project's policy sets). Only
numpy runs here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.answering.features import QUESTION_FEATURES, SENTENCE_FEATURES

SCORES_FILE = Path(__file__).with_name("scores.json")
FORMAT = 2


class Model(Protocol):
    """A fitted binary model over feature rows."""

    def probability(self, rows: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


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
            "kind": "logistic",
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
class Trees:
    """Gradient-boosted decision trees, as scikit-learn's HistGradientBoostingClassifier fits them:
    the log-odds are `baseline` plus, for every tree, the value of the leaf a row reaches from the
    root, going left where its feature is at most the node's threshold (or is NaN, if the node says
    so). Arrays are (trees, nodes), padded; a node whose `left` is 0 is a leaf."""

    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    depth: int

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) for each row (an empty array for no rows)."""
        if not len(rows):
            return np.zeros(0, dtype=np.float64)
        x = np.asarray(rows, dtype=np.float64)
        trees = np.arange(self.feature.shape[0])[None, :]
        row = np.arange(len(x))[:, None]
        node = np.zeros((len(x), self.feature.shape[0]), dtype=np.int64)
        for _ in range(self.depth):
            seen = x[row, self.feature[trees, node]]
            left = np.where(np.isnan(seen), self.missing_left[trees, node], seen <= self.threshold[trees, node])
            step = np.where(left, self.left[trees, node], self.right[trees, node])
            node = np.where(self.left[trees, node] == 0, node, step)
        z = self.baseline + self.value[trees, node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_dict(self) -> dict[str, Any]:
        trees = []
        for t in range(self.feature.shape[0]):
            used = int(np.count_nonzero(self.left[t])) * 2 + 1  # every inner node has two children
            trees.append(
                {
                    "feature": self.feature[t, :used].tolist(),
                    "threshold": self.threshold[t, :used].tolist(),
                    "left": self.left[t, :used].tolist(),
                    "right": self.right[t, :used].tolist(),
                    "missing_left": self.missing_left[t, :used].astype(int).tolist(),
                    "value": self.value[t, :used].tolist(),
                }
            )
        return {"kind": "trees", "baseline": self.baseline, "depth": self.depth, "trees": trees}

    @classmethod
    def from_dict(cls, data: dict[str, Any], width: int) -> Trees:
        trees = data["trees"]
        nodes = max(len(t["left"]) for t in trees)

        def padded(key: str, dtype: type) -> np.ndarray:
            out: np.ndarray = np.zeros((len(trees), nodes), dtype=dtype)
            for i, t in enumerate(trees):
                out[i, : len(t[key])] = t[key]
            return out

        model = cls(
            float(data["baseline"]),
            padded("feature", np.int64),
            padded("threshold", np.float64),
            padded("left", np.int64),
            padded("right", np.int64),
            padded("missing_left", np.bool_),
            padded("value", np.float64),
            int(data["depth"]),
        )
        if model.feature.min() < 0 or model.feature.max() >= width or model.left.max() >= nodes:
            raise ValueError(f"the trees name features or nodes outside the {width} features they were given")
        return model


def model_from_dict(data: dict[str, Any], width: int) -> Model:
    """A logistic model or trees, by the `kind` the file gives."""
    kind = data.get("kind", "logistic")
    if kind == "trees":
        return Trees.from_dict(data, width)
    if kind == "logistic":
        return Logistic.from_dict(data, width)
    raise ValueError(f"unknown model kind {kind!r}")


@dataclass(frozen=True)
class Scores:
    """The sentence model, the question model and the abstention threshold on the latter."""

    sentence: Model
    question: Model
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
        model_from_dict(data["sentence"], len(SENTENCE_FEATURES)),
        model_from_dict(data["question"], len(QUESTION_FEATURES)),
        float(data["threshold"]),
        dict(data.get("about", {})),
    )
