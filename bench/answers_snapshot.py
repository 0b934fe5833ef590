"""Every answer the bot gives on three knowledge bases, as `policybot ask --json`, `policybot ask`
and the Slack blocks print them: run before and after a refactor and diff the two files.

Reproduce with:  .venv/bin/python bench/answers_snapshot.py --out /tmp/answers-before.jsonl
                 (change the code)  .venv/bin/python bench/answers_snapshot.py --out /tmp/answers-after.jsonl
                 diff /tmp/answers-before.jsonl /tmp/answers-after.jsonl && echo identical
Knowledge bases: the shipped knowledge with tests/data/eval.yaml; the shipped knowledge plus the
extra-countries test documents with eval.yaml and eval_extra.yaml; SciFact's corpus with its first
200 test claims (from ../shared, evaluation only). Index versions are blanked: they name a build.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402

from bot import wiring  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.slack import blocks  # noqa: E402
from tests.answering.test_extra_knowledge import build_extra_knowledge  # noqa: E402


def _config(work: Path, knowledge: Path) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^knowledge_dir:.*$", f"knowledge_dir: {knowledge}", text)
    text = re.sub(r"(?m)^index_dir:.*$", f"index_dir: {work / 'index'}", text)
    text = re.sub(r"(?m)^(  gate_eval_set:) (\S+)$", lambda m: f"{m[1]} {ROOT / m[2]}", text)
    path = work / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _questions(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [case["question"] for part in ("answerable", "unanswerable") for case in data.get(part) or []]


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code:
        raise SystemExit(f"policybot {' '.join(argv)} exited {code}")
    return f"{code}\n{out.getvalue()}"


def snapshot(name: str, config: Path, questions: list[str], write: Any) -> None:
    """Index `config`'s knowledge, then record each question's answer three ways."""
    _run(["--config", str(config), "index", "--force"])
    build = wiring.build_answerer
    cache: dict[str, Any] = {}
    last: list[Any] = []

    class Recording:
        def __init__(self, answerer: Any) -> None:
            self.answerer = answerer

        def ask(self, *args: Any, **kwargs: Any) -> Any:
            answer = self.answerer.ask(*args, **kwargs)
            last.append(answer)
            return answer

    def cached(settings: Any, embedder: Any = None) -> Any:
        if "a" not in cache:
            cache["a"] = Recording(build(settings, embedder))
        return cache["a"]

    wiring.build_answerer = cached
    try:
        for question in questions:
            as_json = _run(["--config", str(config), "ask", "--json", question])
            version = last[-1].index_version
            as_text = _run(["--config", str(config), "ask", question])
            slack = json.dumps(blocks.answer_blocks(last[-1], answer_id="A1"), ensure_ascii=False, sort_keys=True)
            record = {"set": name, "question": question, "json": as_json, "text": as_text, "slack": slack}
            line = json.dumps(record, ensure_ascii=False)
            write(line.replace(version, "<version>") if version else line)
    finally:
        wiring.build_answerer = build


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/policybot-snapshot"))
    parser.add_argument("--scifact", type=int, default=200, help="SciFact test claims (0 = none)")
    args = parser.parse_args()
    eval_set, extra_set = ROOT / "tests/data/eval.yaml", ROOT / "tests/data/eval_extra.yaml"
    with args.out.open("w", encoding="utf-8") as out:

        def write(line: str) -> None:
            out.write(line + "\n")

        shipped = args.work / "shipped"
        shipped.mkdir(parents=True, exist_ok=True)
        snapshot("shipped", _config(shipped, ROOT / "knowledge"), _questions(eval_set), write)

        extra = args.work / "extra"
        if extra.exists():
            shutil.rmtree(extra)
        extra.mkdir(parents=True)
        knowledge = build_extra_knowledge(extra / "knowledge")
        snapshot("extra", _config(extra, knowledge), _questions(eval_set) + _questions(extra_set), write)

        if args.scifact:
            import scifact

            data = scifact.load(scifact.DATA, "test")
            sci = args.work / "scifact"
            scifact.write_knowledge(data, sci / "knowledge")
            claims = [data.queries[q] for q in sorted(data.queries, key=int)[: args.scifact]]
            snapshot("scifact", _config(sci, sci / "knowledge"), claims, write)


if __name__ == "__main__":
    run()
