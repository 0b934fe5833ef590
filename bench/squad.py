"""Open-retrieval SQuAD 2.0 (8 articles) through the bot's own answerer, cross-validated by article,
beside three baselines measured in the same run.

Reproduce with:  .venv/bin/python bench/squad.py [--work /tmp/policybot-fit] [--sample] [--runtime onnxruntime]

The data is read from ../shared/datasets/squad2/dev-8-articles.json (evaluation only; never copied
into the repository). Each article becomes one plain-text document without metadata. For each
article, the answerer's learned scores (and their threshold) are fitted by bench/fit_scores.py's
procedure on the other seven articles and the policy sets only; then every question of the held
out article goes through `Answerer.ask`. Figures per fold (article), overall, and per question
type. Baselines rank all 1,947 sentences of the 345 paragraphs (pysbd, as the dataset README):
BM25 (bm25s, English stemmer and stopwords), MiniLM cosine, and cosine + 0.3 x BM25 / max BM25;
their "AUC" is that of the top sentence's score. `--sample` uses the README's 500 + 500 sample.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fit_scores  # noqa: E402
import pysbd  # noqa: E402

from bot.answering.answer_types import classify  # noqa: E402
from bot.answering.answerer import Answerer  # noqa: E402
from bot.answering.scoring import Scores  # noqa: E402
from embeddings.embedder import RUNTIMES  # noqa: E402
from embeddings.index.lexical import LexicalIndex  # noqa: E402


def baselines(
    answerer: Answerer, data: dict[str, Any], questions: list[tuple[str, str, list[str]]], work: Path
) -> dict[str, Any]:
    """Per baseline: answer in the top sentence, in its paragraph, and the AUC of its score."""
    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences, paragraphs = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for sentence in segmenter.segment(paragraph["context"]):
                sentences.append(sentence.strip())
                paragraphs.append(paragraph["context"])
    embedder = answerer.retriever.embedder
    vectors = embedder.embed(sentences)
    lexical = LexicalIndex(sentences)
    queries = fit_scores.embed_questions(answerer, [q for _, q, _ in questions], work)
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (_, question, gold), query in zip(questions, queries, strict=True):
        cosine = vectors @ query
        bm25 = lexical.scores(question)
        top = float(bm25.max())
        combos = {"BM25": bm25, "MiniLM": cosine, "sum": cosine + 0.3 * (bm25 / top if top > 0 else bm25)}
        for name, score in combos.items():
            best = int(np.argmax(score))
            f = found[name]
            f["score"].append(float(score[best]))
            f["answerable"].append(bool(gold))
            if gold:
                golds = [fit_scores.norm(g) for g in gold]
                f["sentence"].append(any(g in fit_scores.norm(sentences[best]) for g in golds))
                f["paragraph"].append(any(g in fit_scores.norm(paragraphs[best]) for g in golds))
    return {
        name: {
            "first quote": float(np.mean(f["sentence"])),
            "first passage": float(np.mean(f["paragraph"])),
            "auc": float(roc_auc_score(f["answerable"], f["score"])),
        }
        for name, f in found.items()
    }


def fold_scores(examples: list[fit_scores.Example], held: str, c: float, max_abstained: float) -> Scores:
    """Both models and the threshold fitted without the `held` article, the shipped procedure."""
    train = [e for e in examples if e.group != held]
    rows = fit_scores.out_of_fold_rows(train, c)
    labels = np.array([e.answerable for e in train])
    question = fit_scores.fit_logistic(rows, labels, c)
    inner = np.zeros(len(train))  # the training articles' answerability, out of fold, for the threshold
    groups = np.array([e.group for e in train])
    for group in set(groups):
        model = fit_scores.fit_logistic(rows[groups != group], labels[groups != group], c)
        inner[groups == group] = model.probability(rows[groups == group])
    rule = np.array([e.rule for e in train])
    squad = np.array([not g.startswith("policy") for g in groups])
    threshold = fit_scores.pick_threshold(inner[squad], labels[squad], rule[squad], max_abstained)
    return Scores(fit_scores.fit_sentences(train, c), question, threshold, {"held_out": held})


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/policybot-fit"))
    parser.add_argument("--articles", type=int, default=0, help="only the first N articles (0 = all 8)")
    parser.add_argument("--data", type=Path, help="the SQuAD articles (default ../shared/datasets/squad2/...)")
    parser.add_argument("--sample", action="store_true", help="the dataset README's 500 + 500 sample only")
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--max-abstained", type=float, default=0.05)
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto", help="build_runtime of the indexes")
    args = parser.parse_args()
    data = json.loads(fit_scores.data_path(args.data).read_text(encoding="utf-8"))
    data["data"] = data["data"][: args.articles or None]  # the first N articles: a quick check that it runs
    examples, answerers = fit_scores.all_examples(data, args.work, args.runtime)
    answerer = answerers["squad"]
    questions = fit_scores.squad_questions(data)
    if args.sample:
        answerable = [q for q in questions if q[2]]
        unanswerable = [q for q in questions if not q[2]]
        random.seed(1)
        chosen = random.sample(answerable, 500) + random.sample(unanswerable, 500)
        keep = {q[1] for q in chosen}
    else:
        keep = {q[1] for q in questions}
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    articles = sorted({a for a, _, _ in questions})
    for article in articles:
        scores = fold_scores(examples, article, args.c, args.max_abstained)
        fold = Answerer(answerer.retriever, answerer.settings, answerer.top_k, scores)
        for _, question, gold in (q for q in questions if q[0] == article and q[1] in keep):
            answer = fold.ask(question)
            keys = ["all", article] + ([f"type: {classify(question).value}"] if gold else [])
            for key in keys:
                r = rows[key]
                r["score"].append(answer.answerability)
                r["answerable"].append(bool(gold))
                if not gold:
                    r["abstained-"].append(answer.abstained)
                    continue
                golds = [fit_scores.norm(g) for g in gold]
                quotes = [fit_scores.norm(q.text) for q in answer.quotes]
                first = fit_scores.norm(answer.citations[0].passage.text) if answer.quotes else ""
                r["abstained+"].append(answer.abstained)
                r["first quote"].append(bool(quotes) and any(g in quotes[0] for g in golds))
                r["any quote"].append(any(g in q for g in golds for q in quotes))
                r["first passage"].append(any(g in first for g in golds))
        rows[article]["threshold"].append(scores.threshold)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    print(
        "| fold (held-out article) | first quote | any quote | first cited passage | answerable abstained "
        "| unanswerable abstained (recall) | precision | answerability AUC | threshold |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for key in ["all", *articles, *sorted(k for k in rows if k.startswith("type: "))]:
        r = rows[key]
        wrong, right = sum(r["abstained+"]), sum(r["abstained-"])
        precision = right / (right + wrong) if right + wrong else float("nan")
        labels = r["answerable"]
        auc = roc_auc_score(labels, r["score"]) if 0 < sum(labels) < len(labels) else float("nan")
        threshold = f"{r['threshold'][0]:.2f}" if r["threshold"] else ""
        name = f"{key} ({len(r['first quote'])} answerable)" if key.startswith("type: ") else key
        print(
            f"| {name} | {mean(r['first quote']):.3f} | {mean(r['any quote']):.3f} | {mean(r['first passage']):.3f} "
            f"| {mean(r['abstained+']):.3f} | {mean(r['abstained-']):.3f} | {precision:.3f} | {auc:.3f} | {threshold} |"
        )
    picked = [q for q in questions if q[1] in keep]
    print("\n| baseline (top sentence of every sentence) | answer in it | its paragraph | AUC of its score |")
    print("|---|---|---|---|")
    for name, f in baselines(answerer, data, picked, args.work).items():
        print(f"| {name} | {f['first quote']:.3f} | {f['first passage']:.3f} | {f['auc']:.3f} |")
    runtime = "" if args.runtime == "auto" else f" --runtime {args.runtime}"
    print(f"\nreproduce: .venv/bin/python bench/squad.py{' --sample' if args.sample else ''}{runtime}")


if __name__ == "__main__":
    run()
