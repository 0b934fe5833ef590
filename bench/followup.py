"""What reading a follow-up in its conversation adds to a warm answer.

Reproduce with:  .venv/bin/python bench/followup.py [--rounds 3] [--conversations N]
Indexes the shipped knowledge and the extra test documents into a temporary folder, loads the
model once, plays every conversation of tests/data/conversations.yaml once (warm-up), then times
each follow-up turn, `rounds` times:
  - reading: `read_in_context` alone (the rules; no model, no index);
  - in context: `ask(message, history=turns)`, the whole answer as every front end gets it;
  - rewrite alone: `ask(interpreted question)` with no history, the same search without the reading.
"in context" minus "rewrite alone" is what reading the follow-up adds to its answer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.evaluation import load_conversations  # noqa: E402
from bot.answering.followup import Turn, read_in_context, turn_of  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from tests.answering.test_extra_knowledge import build_extra_knowledge  # noqa: E402


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each follow-up is timed")
    parser.add_argument("--conversations", type=int, default=0, help="only the first N conversations (0 = all)")
    args = parser.parse_args()
    conversations = load_conversations(ROOT / "tests" / "data" / "conversations.yaml")
    conversations = conversations[: args.conversations or None]
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = build_extra_knowledge(Path(tmp) / "knowledge")
        settings = load_settings(ROOT / "config.yaml").model_copy(
            update={"knowledge_dir": knowledge, "index_dir": Path(tmp) / "index"}
        )
        embedder = SentenceTransformerEmbedder(settings.model)
        build_index(settings.knowledge_dir, settings.index_dir, embedder, settings.splitter)
        answerer = build_answerer(settings, embedder=embedder)
        cases: list[tuple[str, list[Turn], str]] = []  # (message, turns before it, interpreted question)
        for conversation in conversations:  # warm-up, and the turns each follow-up comes after
            turns: list[Turn] = []
            for turn in conversation.turns:
                answer = answerer.ask(turn.case.question, history=turns)
                if turn.follow_up:
                    cases.append((turn.case.question, list(turns), answer.read_as))
                turns.append(turn_of(answer))
        reading, in_context, alone = [], [], []
        for _ in range(args.rounds):
            for message, turns, interpreted in cases:
                t0 = time.perf_counter()
                read_in_context(message, turns)
                t1 = time.perf_counter()
                answerer.ask(message, history=turns)
                t2 = time.perf_counter()
                answerer.ask(interpreted)
                t3 = time.perf_counter()
                reading.append((t1 - t0) * 1000)
                in_context.append((t2 - t1) * 1000)
                alone.append((t3 - t2) * 1000)
    added = [a - b for a, b in zip(in_context, alone, strict=True)]
    print(f"{len(cases)} follow-ups of {len(conversations)} conversations, {args.rounds} rounds")
    print("| what | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| reading the follow-up (rules only) | {ms(reading, 50):.2f} | {ms(reading, 99):.2f} |")
    print(f"| answer in context | {ms(in_context, 50):.1f} | {ms(in_context, 99):.1f} |")
    print(f"| the rewrite answered alone | {ms(alone, 50):.1f} | {ms(alone, 99):.1f} |")
    print(f"| added by reading (paired difference) | {ms(added, 50):.2f} | {ms(added, 99):.2f} |")
    only = f" --conversations {args.conversations}" if args.conversations else ""
    print(f"reproduce: .venv/bin/python bench/followup.py --rounds {args.rounds}{only}")


if __name__ == "__main__":
    main()
