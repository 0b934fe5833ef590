"""`policybot eval --conversations`: the conversations set, and the figures of follow-ups read in context,
alone (the floor) and rewritten (the ceiling)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import evaluate_conversations, format_conversation_report, load_conversations
from bot.cli import main
from bot.config import Settings
from embeddings.errors import PolicyBotError
from tests.conftest import KNOWLEDGE, ROOT, write_config

CONVERSATIONS = ROOT / "tests" / "data" / "conversations.yaml"
SMALL = """
conversations:
  - id: pcast
    turns:
      - question: What did the 2011 PCAST report conclude about American manufacturing leadership?
        expect: decline in American manufacturing leadership
      - question: What is its title?
        rewrite: What is the title of the 2011 PCAST report?
        expect: Ensuring American Leadership
      - question: How do I bake sourdough bread?
        kind: off-topic
      - question: And the 2016 one?
        rewrite: What did the 2016 PCAST report recommend?
        kind: near-miss
      - question: What pillars do the AMP recommendations rest on?
        expect: three pillars
"""


def test_the_conversations_set_holds_what_the_issue_asks_for() -> None:
    conversations = load_conversations(CONVERSATIONS)
    follow_ups = [t for c in conversations for t in c.turns if t.follow_up]
    assert len(conversations) >= 25 and len(follow_ups) >= 60
    kinds = {t.type for t in follow_ups}
    assert {"pronoun", "ellipsis", "what-about", "which-one", "correction"} <= kinds
    assert sum(not t.case.answerable for t in follow_ups) >= 10
    assert sum(not t.follow_up for c in conversations for t in c.turns[1:]) >= 10  # topic switches mid-thread


@pytest.mark.parametrize(
    ("turn", "error"),
    [
        ("{question: 'What is PCAST?'}", "needs an 'expect' phrase or an unanswerable 'kind'"),
        ("{question: 'What is PCAST?', expect: PCAST, kind: near-miss}", "not both"),
        ("{question: 'What is PCAST?', kind: unknown}", "kind must be one of"),
        ("{question: 'What is PCAST?', expect: PCAST, rewrite: 'Hm?'}", "a first turn has nothing to follow"),
    ],
)
def test_a_malformed_turn_is_named_by_conversation_and_position(tmp_path: Path, turn: str, error: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"conversations:\n  - id: x\n    turns:\n      - {turn}\n")
    with pytest.raises(PolicyBotError, match=error) as caught:
        load_conversations(path)
    assert "conversation x turn 1" in str(caught.value)


@pytest.mark.slow
def test_follow_ups_are_scored_in_context_alone_and_rewritten(answerer: Answerer, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SMALL)
    report = evaluate_conversations(answerer, load_conversations(path))
    figures = report.figures()
    assert figures["follow_ups_answerable"] == 1 and figures["follow_ups_unanswerable"] == 1
    assert figures["follow_up_hit_at_1"] == 1.0
    assert figures["no_context_hit_at_1"] == 0.0  # "What is its title?" alone names no report
    assert figures["unanswerable_abstained"] == 1.0
    assert figures["standalone_turns"] == 2 and figures["standalone_changed"] == 0
    shown = format_conversation_report(report)
    assert "follow-up hit@1       1.000" in shown and "0 of 2" in shown


@pytest.mark.slow
def test_eval_conversations_prints_the_figures_as_json(
    tmp_path: Path,
    shipped_settings: Settings,
    embedder: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings: embedder)
    config = write_config(tmp_path / "config.yaml", KNOWLEDGE, shipped_settings.index_dir)
    (tmp_path / "c.yaml").write_text(SMALL)
    assert main(["--config", str(config), "eval", "--conversations", str(tmp_path / "c.yaml"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["conversations"] == 1 and figures["standalone_changed"] == 0
