"""Feedback is kept and comes back as a report and as evaluation-set candidates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.answering.answer import Answer, Citation, Quote
from bot.answering.evaluation import load_eval_set
from bot.cli import main
from bot.config import load_settings
from bot.state.feedback import (
    HELPFUL,
    NOT_HELPFUL,
    FeedbackStore,
    eval_set_name,
    export_candidates,
    format_report,
)
from bot.state.pending import PendingWrites
from embeddings.passage import Passage
from tests.state.stored import stored_votes

ROOT = Path(__file__).resolve().parents[2]


def answer(question: str) -> Answer:
    p = Passage(
        id=1,
        key="us.md#3",
        doc="us.md",
        title="Key Policies",
        section=("Energy",),
        text="Energy policy is central.",
        source="https://example.org",
        position=3,
    )
    return Answer(question, (Quote(p.text, 1),), (Citation(1, p, 0.7),), abstained=False, index_version="v7")


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    store = FeedbackStore(tmp_path / "var" / "feedback.sqlite3")
    for answer_id, question in (("a1", "What about energy?"), ("a2", "Who pays for R&D?")):
        store.record_answer(
            answer_id, answer(question), [], user="U1", channel="C1", thread_ts="1.0", message_ts=answer_id
        )
    store.record_vote("a1", "U1", "C1", HELPFUL)
    store.record_vote("a2", "U1", "C1", NOT_HELPFUL)
    store.record_vote("a2", "U2", "C1", NOT_HELPFUL)
    store.record_correction("a2", "U2", "The federal agencies and industry", "Key Policies > Objectives")
    return store


def test_a_vote_keeps_question_answer_passages_index_user_channel_and_time(store: FeedbackStore) -> None:
    first = stored_votes(store.db)[0]
    assert first["question"] == "What about energy?" and first["answer"] == "Energy policy is central. [1]"
    assert (first["passage_ids"], first["index_version"], first["user"], first["channel"]) == (
        ["us.md#3"],
        "v7",
        "U1",
        "C1",
    )
    assert first["vote"] == "helpful" and first["created"].startswith("20")


def test_changing_a_vote_replaces_it(store: FeedbackStore) -> None:
    store.record_vote("a1", "U1", "C1", NOT_HELPFUL)
    report = store.report()
    assert (report.helpful, report.not_helpful) == (0, 3)


def test_votes_on_unknown_answers_are_refused(store: FeedbackStore) -> None:
    assert store.record_vote("nope", "U1", "C1", HELPFUL) is False
    assert store.record_correction("a1", "U1", "  ", "") is False


def test_feedback_report_lists_counts_worst_questions_and_corrections(
    store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"slack:\n  feedback_db: {store.db.path}\n")
    assert main(["--config", str(config), "feedback"]) == 0
    out = capsys.readouterr().out
    assert "Answers posted in Slack: 2" in out and "Votes: 1 helpful, 2 not helpful" in out
    assert "    2  Who pays for R&D?" in out
    assert "right answer: The federal agencies and industry" in out


def test_corrections_export_as_evaluation_candidates(
    store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, exported = tmp_path / "config.yaml", tmp_path / "candidates.yaml"
    config.write_text(f"slack:\n  feedback_db: {store.db.path}\n")
    assert main(["--config", str(config), "feedback", "--export", str(exported)]) == 0
    [case] = load_eval_set(exported)
    assert (case.question, case.expect) == ("Who pays for R&D?", "The federal agencies and industry")
    assert export_candidates(store.report()) == exported.read_text()


def test_the_export_names_the_evaluation_set_config_yaml_gates_publishing_with(
    store: FeedbackStore, tmp_path: Path
) -> None:
    assert eval_set_name(load_settings(ROOT / "config.yaml")) == "tests/data/eval.yaml"  # the shipped checkout
    config = tmp_path / "config.yaml"
    config.write_text("indexing:\n  gate_eval_set: checks/eval.yaml\n")
    assert eval_set_name(load_settings(config)) == "checks/eval.yaml"
    config.write_text("indexing:\n  gate_eval_set: null\n")
    assert eval_set_name(load_settings(config)) == "the evaluation set"
    assert "then merge into checks/eval.yaml.\n" in export_candidates(store.report(), "checks/eval.yaml")


def test_feedback_without_a_database_says_there_is_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("slack:\n  feedback_db: fb.sqlite3\n")
    assert main(["--config", str(config), "feedback"]) == 0
    assert "No feedback yet" in capsys.readouterr().err
    assert not (tmp_path / "fb.sqlite3").exists()


def test_feedback_on_a_follow_up_names_the_question_it_was_read_as(store: FeedbackStore) -> None:
    follow_up = replace(answer("And the 2012 one?"), interpreted_question="What did the 2012 PCAST report recommend?")
    store.record_answer("a3", follow_up, [], user="U1", channel="C1", thread_ts="1.0", message_ts="a3")
    for user in ("U1", "U2", "U3"):
        store.record_vote("a3", user, "C1", NOT_HELPFUL)
    store.record_correction("a3", "U1", "Five objectives", "")
    report = store.report()
    assert report.worst[0] == ("What did the 2012 PCAST report recommend?", 3)
    shown = format_report(report)
    assert "Q: And the 2012 one?\n     read as: What did the 2012 PCAST report recommend?" in shown
    exported = yaml.safe_load(export_candidates(report))["answerable"]
    assert {"question": "What did the 2012 PCAST report recommend?", "expect": "Five objectives"} in exported
    assert exported[0]["question"] == "Who pays for R&D?"  # asked standing alone: kept as asked


def test_an_answer_kept_by_an_older_policybot_is_still_written(tmp_path: Path) -> None:
    pending = PendingWrites(tmp_path / "pending.jsonl")
    old_row = ["a1", "2026-01-01T00:00:00+00:00", "What is AMP?", "A partnership.", "[]", "v1", 0, "U1", "C1"]
    pending.add("answer", [*old_row, None, "1.1", "[]"])  # the 12 columns before `interpreted`
    store = FeedbackStore(tmp_path / "feedback.sqlite3", pending)
    store.flush()
    assert store.record_vote("a1", "U1", "C1", NOT_HELPFUL)
    assert store.report().worst == [("What is AMP?", 1)]
