"""Fit the answerer's two learned scores (bot/answering/scores.json) and report them per fold.

Reproduce with:  .venv/bin/python bench/fit_scores.py [--write] [--work /tmp/policybot-fit]

Data: open-retrieval SQuAD 2.0 (../shared/datasets/squad2/dev-8-articles.json, every question;
read here, never copied into the repository) and the project's policy sets (tests/data/eval.yaml
on knowledge/, eval_extra.yaml on knowledge/ plus the extra test documents). Each question runs
through the real retriever and `features.py`; the labels are "this sentence holds the gold
answer" (SQuAD's answer text, a policy case's `expect` phrase) and "the question is answerable".

Cross-validation is by group: each SQuAD article is a group and each policy set is one, so no
question is scored by a model that saw its article. The question model's training rows use
sentence probabilities that are themselves out of fold. The shipped threshold is the highest one
at which at most `--max-abstained` of the answerable SQuAD questions abstain out of fold; `--write`
refits both models on every group and stores them with that threshold and these figures.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import re
import shutil
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.abstention import abstention_reason  # noqa: E402
from bot.answering.answerer import Answerer  # noqa: E402
from bot.answering.evaluation import load_eval_set  # noqa: E402
from bot.answering.features import QUESTION_FEATURES, from_probabilities, question_base, sentence_rows  # noqa: E402
from bot.answering.scoring import SCORES_FILE, Logistic, Scores, Trees  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402

SQUAD = ROOT.parent / "shared" / "datasets" / "squad2" / "dev-8-articles.json"


@dataclass
class Example:
    """One question's candidate rows and labels."""

    group: str
    question: str
    answerable: bool
    rows: np.ndarray
    labels: np.ndarray  # per candidate: holds the answer
    base: np.ndarray  # the question row, with sentence-probability features still to fill
    rule: bool


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def squad_questions(data: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(article, question, gold answers; [] = unanswerable) for every question, in file order."""
    return [
        (article["title"], qa["question"], [a["text"] for a in qa["answers"]])
        for article in data["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


def write_squad_knowledge(data: dict[str, Any], folder: Path) -> None:
    """One plain-text document per article, paragraphs separated by blank lines, no metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in data["data"]:
        text = "\n\n".join(p["context"].strip() for p in article["paragraphs"]) + "\n"
        (folder / f"{article['title']}.txt").write_text(text, encoding="utf-8")


def indexed_answerer(work: Path, knowledge: Path, runtime: str = "auto") -> Answerer:
    """Index `knowledge` into `work` (default settings, no gate, `runtime` as build_runtime); load the answerer."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.yaml"
    config.write_text(
        f"knowledge_dir: {knowledge}\nindex_dir: {work / 'index'}\nbuild_runtime: {runtime}\n"
        "indexing:\n  gate_eval_set: null\n  reload_seconds: 0\n",
        encoding="utf-8",
    )
    with contextlib.redirect_stdout(io.StringIO()):
        if main(["--config", str(config), "index"]):
            raise SystemExit(f"indexing {knowledge} failed")
    return build_answerer(load_settings(config))


def embed_questions(answerer: Answerer, questions: list[str], cache: Path) -> np.ndarray:
    """The questions' embeddings, kept in `cache` for the next run (keyed by model and questions)."""
    key = hashlib.sha256("\n".join([answerer.retriever.index.meta.model, *questions]).encode()).hexdigest()[:16]
    path = cache / f"queries-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = answerer.retriever.embedder.embed(questions)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def collect(answerer: Answerer, cases: list[tuple[str, str, list[str]]], cache: Path) -> list[Example]:
    """Feature rows for (group, question, answers) through the answerer's own retrieval."""
    index = answerer.retriever.index
    queries = embed_questions(answerer, [q for _, q, _ in cases], cache)
    examples = []
    for (group, question, gold), query in zip(cases, queries, strict=True):
        _, hits = answerer.retrieve(question, None, index, query=query)
        rows = sentence_rows(question, query, hits, index)
        golds = [norm(g) for g in gold]
        labels = np.array([any(g in norm(c.text) for g in golds) for c in rows.candidates], dtype=bool)
        rule = bool(abstention_reason(question, hits, answerer.settings, index, rows)) if hits else True
        base = question_base(question, rows, hits, index, rule)
        examples.append(Example(group, question, bool(gold), rows.rows, labels, base, rule))
    return examples


def policy_cases(name: str, path: Path) -> list[tuple[str, str, list[str]]]:
    return [(name, c.question, [c.expect] if c.expect else []) for c in load_eval_set(path)]


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float) -> Logistic:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x), y)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return Logistic(scaler.mean_, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_trees(x: np.ndarray, y: np.ndarray) -> Trees:
    """Boosted trees (200 of depth 3: measured against logistic, MLP and depth 4 by article-held-out
    cross-validation), exported for numpy and checked against scikit-learn's own prediction."""
    model = HistGradientBoostingClassifier(
        max_depth=3, max_iter=200, learning_rate=0.05, early_stopping=False, random_state=0
    ).fit(x, y)
    fields = {"feature": "feature_idx", "threshold": "num_threshold", "left": "left", "right": "right"}
    fields |= {"missing_left": "missing_go_to_left", "value": "value"}
    nodes = [predictors[0].nodes for predictors in model._predictors]  # one tree per round (binary)
    exported = {
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "depth": int(max(n["depth"].max() for n in nodes)),
        "trees": [{ours: n[theirs].tolist() for ours, theirs in fields.items()} for n in nodes],
    }
    trees = Trees.from_dict(exported, x.shape[1])
    sample = x[:: max(1, len(x) // 2000)]
    if not np.allclose(trees.probability(sample), model.predict_proba(sample)[:, 1], atol=1e-9):
        raise SystemExit("the exported trees do not reproduce scikit-learn's predictions")
    return trees


def fit_sentences(examples: list[Example], c: float) -> Trees:
    """The sentence model: trees over the answerable questions' candidates (`c` is unused here)."""
    usable = [e for e in examples if e.answerable and len(e.rows)]
    return fit_trees(np.vstack([e.rows for e in usable]), np.concatenate([e.labels for e in usable]))


def filled(example: Example, probabilities: np.ndarray) -> np.ndarray:
    """The question row, given its sentences' probabilities."""
    return np.concatenate([example.base, from_probabilities(example.rows, probabilities)])


def out_of_fold_rows(examples: list[Example], c: float) -> np.ndarray:
    """Each question's row from sentence probabilities of a model that did not see its group."""
    rows = np.zeros((len(examples), len(QUESTION_FEATURES)), dtype=np.float64)
    for group in sorted({e.group for e in examples}):
        model = fit_sentences([e for e in examples if e.group != group], c)
        for i, e in enumerate(examples):
            if e.group == group:
                rows[i] = filled(e, model.probability(e.rows))
    return rows


def figures(examples: list[Example], sentence: Trees, question: Logistic) -> dict[str, Any]:
    """First / any-of-4 sentence hit on answerable questions and the answerability scores."""
    first = anyq = 0
    scores = []
    for e in examples:
        p = sentence.probability(e.rows)
        scores.append(float(question.probability(filled(e, p)[None])[0]))
        if e.answerable and len(p):
            order = np.argsort(-p)
            first += bool(e.labels[order[0]])
            anyq += bool(e.labels[order[:4]].any())
    answerable = sum(e.answerable for e in examples)
    return {"first": first / answerable, "any4": anyq / answerable, "scores": scores}


def all_examples(data: dict[str, Any], work: Path, runtime: str = "auto") -> tuple[list[Example], dict[str, Answerer]]:
    """Every SQuAD question and every policy-set case, indexed (`runtime`: build_runtime), scored into feature rows."""
    write_squad_knowledge(data, work / "squad" / "knowledge")
    answerers = {"squad": indexed_answerer(work / "squad", work / "squad" / "knowledge", runtime)}
    examples = collect(answerers["squad"], squad_questions(data), work)
    answerers["shipped"] = indexed_answerer(work / "shipped", ROOT / "knowledge", runtime)
    examples += collect(answerers["shipped"], policy_cases("policy", ROOT / "tests/data/eval.yaml"), work)
    from tests.answering.test_extra_knowledge import build_extra_knowledge

    shutil.rmtree(work / "extra" / "knowledge", ignore_errors=True)
    extra = build_extra_knowledge(work / "extra" / "knowledge")
    answerers["extra"] = indexed_answerer(work / "extra", extra, runtime)
    examples += collect(answerers["extra"], policy_cases("policy-extra", ROOT / "tests/data/eval_extra.yaml"), work)
    return examples, answerers


def pick_threshold(scores: np.ndarray, answerable: np.ndarray, rule: np.ndarray, max_abstained: float) -> float:
    """The highest threshold (in steps of 0.01) at which at most `max_abstained` of the answerable
    questions abstain, counting those a rule makes abstain anyway."""
    best = 0.0
    for t in np.round(np.arange(0.01, 1.0, 0.01), 2):
        if ((scores < t) | rule)[answerable].mean() <= max_abstained:
            best = float(t)
    return best


def print_quote_ratios(examples: list[Example], c: float, most: int = 4) -> None:
    """For `answer.quote_ratio`: how often some quoted sentence (at least that share of the best
    one's probability, at most `most`) holds the answer, out of fold, and how many are quoted."""
    probabilities: list[tuple[Example, np.ndarray]] = []
    for group in sorted({e.group for e in examples if not e.group.startswith("policy")}):
        model = fit_sentences([e for e in examples if e.group != group], c)
        probabilities += [(e, model.probability(e.rows)) for e in examples if e.group == group and e.answerable]
    print("\n| quote_ratio | answer in a quoted sentence (answerable SQuAD, out of fold) | sentences quoted |")
    print("|---|---|---|")
    for ratio in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        found, quoted = [], []
        for e, p in probabilities:
            order = np.argsort(-p)
            chosen = [j for j in order if len(p) and p[j] >= ratio * p[order[0]]][:most]
            found.append(bool(e.labels[chosen].any()) if chosen else False)
            quoted.append(len(chosen))
        print(f"| {ratio:.1f} | {np.mean(found):.3f} | {np.mean(quoted):.2f} |")


def scores_text(data: dict[str, Any]) -> str:
    """scores.json as text: indented, but each tree of the sentence model on one line."""
    trees = data["sentence"].pop("trees", None)
    if trees is None:
        return json.dumps(data, indent=1) + "\n"
    data["sentence"]["trees"] = "@trees@"
    lines = ",\n".join("   " + json.dumps(tree, separators=(",", ":")) for tree in trees)
    return json.dumps(data, indent=1).replace('"@trees@"', "[\n" + lines + "\n  ]") + "\n"


def data_path(given: Path | None) -> Path:
    path = given or SQUAD
    if not path.exists():
        raise SystemExit(f"{path} is not there: pass --data PATH to dev-8-articles.json")
    return path


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/policybot-fit"))
    parser.add_argument("--articles", type=int, default=0, help="only the first N articles (0 = all 8)")
    parser.add_argument("--data", type=Path, help=f"the SQuAD articles (default {SQUAD})")
    parser.add_argument("--write", action="store_true", help=f"refit on everything and write {SCORES_FILE.name}")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of both models")
    parser.add_argument("--max-abstained", type=float, default=0.05, help="answerable SQuAD questions abstaining")
    args = parser.parse_args()
    data = json.loads(data_path(args.data).read_text(encoding="utf-8"))
    data["data"] = data["data"][: args.articles or None]  # the first N articles: a quick check that it runs
    examples, _ = all_examples(data, args.work)
    groups = sorted({e.group for e in examples})
    print("| held-out group | questions | answer in best sentence | in best 4 | answerability AUC |")
    print("|---|---|---|---|---|")
    pooled: dict[str, list[Any]] = {"score": [], "answerable": [], "rule": [], "squad": []}
    for group in groups:
        train = [e for e in examples if e.group != group]
        test = [e for e in examples if e.group == group]
        sentence = fit_sentences(train, args.c)
        question = fit_logistic(out_of_fold_rows(train, args.c), np.array([e.answerable for e in train]), args.c)
        f = figures(test, sentence, question)
        labels = [e.answerable for e in test]
        auc = roc_auc_score(labels, f["scores"]) if 0 < sum(labels) < len(labels) else float("nan")
        print(f"| {group} | {len(test)} | {f['first']:.3f} | {f['any4']:.3f} | {auc:.3f} |")
        pooled["score"] += f["scores"]
        pooled["answerable"] += labels
        pooled["rule"] += [e.rule for e in test]
        pooled["squad"] += [not group.startswith("policy")] * len(test)
    score, answerable = np.array(pooled["score"]), np.array(pooled["answerable"], dtype=bool)
    rule, squad = np.array(pooled["rule"], dtype=bool), np.array(pooled["squad"], dtype=bool)
    auc = float(roc_auc_score(answerable[squad], score[squad]))
    print(f"\nSQuAD pooled out-of-fold answerability AUC: {auc:.3f}")
    print(
        "| threshold | SQuAD answerable abstained | SQuAD unanswerable abstained | precision "
        "| policy answerable abstained | policy unanswerable abstained |"
    )
    print("|---|---|---|---|---|---|")
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        abstains = (score < t) | rule
        n_right, n_wrong = abstains[squad & ~answerable].sum(), abstains[squad & answerable].sum()
        precision = n_right / (n_right + n_wrong) if n_right + n_wrong else float("nan")
        rates = [abstains[squad & answerable], abstains[squad & ~answerable]]
        rates += [abstains[~squad & answerable], abstains[~squad & ~answerable]]
        a, b, c, d = (float(r.mean()) for r in rates)
        print(f"| {t:.2f} | {a:.3f} | {b:.3f} | {precision:.3f} | {c:.3f} | {d:.3f} |")
    threshold = pick_threshold(score[squad], answerable[squad], rule[squad], args.max_abstained)
    print(
        f"\nthreshold with at most {args.max_abstained:.0%} of answerable SQuAD questions abstaining: {threshold:.2f}"
    )
    print_quote_ratios(examples, args.c)
    if args.write:
        sentence = fit_sentences(examples, args.c)
        question = fit_logistic(out_of_fold_rows(examples, args.c), np.array([e.answerable for e in examples]), args.c)
        about = {
            "fitted": date.today().isoformat(),
            "command": "python bench/fit_scores.py --write",
            "data": "open-retrieval SQuAD 2.0, 8 dev articles (3,074 questions); tests/data/eval.yaml; eval_extra.yaml",
            "threshold_rule": f"at most {args.max_abstained:.0%} of answerable SQuAD questions abstain, out of fold",
            "squad_out_of_fold_auc": round(auc, 4),
        }
        SCORES_FILE.write_text(scores_text(Scores(sentence, question, threshold, about).to_dict()), encoding="utf-8")
        print(f"wrote {SCORES_FILE.relative_to(ROOT)}")
    print("reproduce: .venv/bin/python bench/fit_scores.py" + (" --write" if args.write else ""))


if __name__ == "__main__":
    run()
