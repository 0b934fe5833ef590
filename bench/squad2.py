"""Open-retrieval SQuAD 2.0 (8 articles) through the bot's own answerer: is the gold answer quoted,
and does it abstain on the unanswerable questions?

Reproduce with:  .venv/bin/python bench/squad2.py [--work /tmp/policybot-squad2] [--all]
The data is read from ../shared/datasets/squad2/dev-8-articles.json (evaluation only; never copied
into the repository). Each article becomes one text document (paragraphs separated by blank lines,
no metadata); the sample is the README's: answerable and unanswerable questions in file order,
`random.seed(1)`, 500 of each (`--all`: every question). Nothing is fitted here, so there is no
cross-validation: per-article figures show the spread.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import main  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "squad2" / "dev-8-articles.json"


def _wiring() -> Any:
    with contextlib.suppress(ModuleNotFoundError):
        return importlib.import_module("bot.engine")  # before the layout change (69356d0)
    return importlib.import_module("bot.wiring")


def sample(data: dict[str, Any], everything: bool) -> list[tuple[str, str, list[str]]]:
    """(article, question, gold answers; [] = unanswerable), as the dataset README draws them."""
    answerable, unanswerable = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                row = (article["title"], qa["question"], [a["text"] for a in qa["answers"]])
                (unanswerable if qa["is_impossible"] else answerable).append(row)
    if everything:
        return answerable + unanswerable
    random.seed(1)
    return random.sample(answerable, 500) + random.sample(unanswerable, 500)


def write_knowledge(data: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for article in data["data"]:
        text = "\n\n".join(p["context"].strip() for p in article["paragraphs"]) + "\n"
        (folder / f"{article['title']}.txt").write_text(text, encoding="utf-8")


def auc(positive: list[float], negative: list[float]) -> float:
    """ROC AUC: the chance an answerable question scores above an unanswerable one (ties half)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative)) if positive and negative else float("nan")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/policybot-squad2"))
    parser.add_argument("--all", action="store_true", help="every question instead of the 500 + 500 sample")
    args = parser.parse_args()
    data = json.loads(DATA.read_text(encoding="utf-8"))
    write_knowledge(data, args.work / "knowledge")
    config = args.work / "config.yaml"
    config.write_text(
        f"knowledge_dir: {args.work / 'knowledge'}\nindex_dir: {args.work / 'index'}\n"
        "indexing:\n  gate_eval_set: null\n",
        encoding="utf-8",
    )
    with contextlib.redirect_stdout(io.StringIO()):
        if main(["--config", str(config), "index"]):
            raise SystemExit("indexing failed")
    settings = importlib.import_module("bot.config").load_settings(config)
    answerer = _wiring().build_answerer(settings)
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for article, question, gold in sample(data, args.all):
        answer = answerer.ask(question)
        score = answer.citations[0].score if answer.citations else 0.0
        for key in ("all", article):
            r = rows[key]
            r["score+" if gold else "score-"].append(score)
            if not gold:
                r["abstained-"].append(float(answer.abstained))
                continue
            golds = [_norm(g) for g in gold]
            quotes = [_norm(q.text) for q in answer.quotes]
            first = answer.citations[0].passage.text if answer.citations and not answer.abstained else ""
            r["abstained+"].append(float(answer.abstained))
            r["first quote"].append(float(bool(quotes) and any(g in quotes[0] for g in golds)))
            r["any quote"].append(float(any(g in q for g in golds for q in quotes)))
            r["first passage"].append(float(any(g in _norm(first) for g in golds)))

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    print(
        "| set | answer in first quote | in any quote | in first cited passage | answerable abstained "
        "| unanswerable abstained (recall) | abstention precision | AUC of top score |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key in ["all", *sorted(k for k in rows if k != "all")]:
        r = rows[key]
        wrong = sum(r["abstained+"])  # answerable questions that abstained
        right = sum(r["abstained-"])
        precision = right / (right + wrong) if right + wrong else float("nan")
        print(
            f"| {key} | {mean(r['first quote']):.3f} | {mean(r['any quote']):.3f} | {mean(r['first passage']):.3f} "
            f"| {mean(r['abstained+']):.3f} | {mean(r['abstained-']):.3f} | {precision:.3f} "
            f"| {auc(r['score+'], r['score-']):.3f} |"
        )
    print(f"reproduce: .venv/bin/python bench/squad2.py{' --all' if args.all else ''}")


if __name__ == "__main__":
    run()
