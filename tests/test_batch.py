"""`policybot ask --batch`: a file of questions answered line by line, as a user runs it."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.batch import BadLine, parse_line
from bot.cli import main
from bot.config import Settings
from tests.conftest import KNOWLEDGE, ROOT, write_config

PILLARS = "What pillars do the AMP recommendations rest on?"
OBJECTIVES = "What are the five objectives of the 2012 plan?"
MADE_SMARTER = "What is the UK's Made Smarter programme?"


@pytest.fixture
def config(tmp_path: Path, shipped_settings: Settings, embedder: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config over the shipped knowledge's index; `policybot` gets the session's real model."""
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings: embedder)
    return write_config(tmp_path / "config.yaml", KNOWLEDGE, shipped_settings.index_dir)


def ask(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`policybot ask ARGS`: exit status, standard output, standard error."""
    status = main(["--config", str(config), "ask", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def questions_file(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def line(**fields: object) -> str:
    return json.dumps(fields)


@pytest.mark.slow
def test_each_line_gets_the_answer_a_single_ask_gives_under_its_id(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = questions_file(
        tmp_path,
        "# questions for the review",
        PILLARS,
        "",
        line(id="q-objectives", question=OBJECTIVES),
        line(id=42, question=MADE_SMARTER),
    )
    status, out, err = ask(config, capsys, "--batch", batch, "--json", "-k", "3")
    assert (status, err) == (0, "")
    records = [json.loads(text) for text in out.splitlines()]
    assert [(r["id"], r["line"]) for r in records] == [(2, 2), ("q-objectives", 4), (42, 5)]
    for record, question in zip(records, (PILLARS, OBJECTIVES, MADE_SMARTER), strict=True):
        single = json.loads(ask(config, capsys, "--json", "-k", "3", question)[1])
        assert {key: value for key, value in record.items() if key not in ("id", "line")} == single
    assert "three pillars" in records[0]["answer"] and records[2]["abstained"]


@pytest.mark.slow
def test_a_bad_line_is_reported_by_number_and_the_others_are_answered(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = questions_file(tmp_path, PILLARS, '{"id": "broken", "question": "What is PCAST?"', "x" * 3000, OBJECTIVES)
    status, out, err = ask(config, capsys, "--batch", batch, "--json")
    assert status == 1
    records = [json.loads(text) for text in out.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4]
    assert records[1] == {"id": 2, "line": 2, "error": "not valid JSON: Expecting ',' delimiter (column 46)"}
    assert records[2]["error"].startswith("The question is 3,000 characters long; the limit is 2,000")
    assert "three pillars" in records[0]["answer"] and "five objectives" in records[3]["answer"]
    assert err.splitlines() == [
        "line 2: not valid JSON: Expecting ',' delimiter (column 46)",
        f"line 3: {records[2]['error']}",
        "policybot: 2 of 4 questions not answered (lines 2, 3)",
    ]


@pytest.mark.parametrize(
    ("text", "ident", "error"),
    [
        ('{"id": "a"}', "a", 'no "question" key'),
        ('{"id": "b", "question": ["What is PCAST?"]}', "b", '"question" must be a string'),
        ('{"id": "c", "question": "   "}', "c", "the question is empty"),
        ('{"id": "d", "question": "What is PCAST?", "contry": "Germany"}', "d", "unknown key 'contry'"),
        ('{"id": "e", "question": "What is PCAST?", "country": 1}', "e", '"country" must be a string'),
        ('{"id": null, "question": "What is PCAST?"}', 7, '"id" must be a string or an integer'),
        ("{What is PCAST?}", 7, "not valid JSON: Expecting property name enclosed in double quotes (column 2)"),
    ],
)
def test_a_line_that_cannot_be_asked_says_why(text: str, ident: object, error: str) -> None:
    bad = parse_line(7, text)
    assert isinstance(bad, BadLine)
    assert (bad.line, bad.id) == (7, ident)
    assert bad.error.startswith(error)


@pytest.mark.slow
def test_standard_input_with_invalid_utf8_is_answered_with_a_notice(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    piped = b"\xef\xbb\xbfWhat is PCAST\xff?\r\n" + line(id="p", question=PILLARS).encode() + b"\r\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(piped), encoding="utf-8"))
    status, out, err = ask(config, capsys, "--batch", "-", "--json")
    assert status == 0
    assert err == "line 1: the question held bytes that are not UTF-8; each was replaced with \ufffd\n"
    first, second = (json.loads(text) for text in out.splitlines())
    assert (first["id"], first["question"]) == (1, "What is PCAST\ufffd?")  # the byte-order mark is not in it
    assert "Council of Advisors" in first["answer"] and first["notice"].startswith("the question held bytes")
    assert (second["id"], "notice" in second) == ("p", False)
    assert "three pillars" in second["answer"]


@pytest.mark.slow
def test_without_json_each_answer_is_printed_as_ask_prints_it_under_a_header(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = questions_file(tmp_path, PILLARS, line(id="q2", question=OBJECTIVES))
    status, out, _ = ask(config, capsys, "--batch", batch)
    singles = [ask(config, capsys, question)[1] for question in (PILLARS, OBJECTIVES)]
    assert status == 0
    assert out == f"== 1: {PILLARS}\n{singles[0]}\n== q2: {OBJECTIVES}\n{singles[1]}"


@pytest.mark.slow
def test_a_lines_country_overrides_the_country_option(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = questions_file(tmp_path, PILLARS, line(question=PILLARS, country="United States"))
    status, out, _ = ask(config, capsys, "--batch", batch, "--json", "--country", "Germany")
    scoped, overridden = (json.loads(text) for text in out.splitlines())
    assert status == 0
    assert scoped["reason"] == "it holds no documents about Germany"
    assert not overridden["abstained"] and "three pillars" in overridden["answer"]


def test_a_missing_file_is_named_before_the_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")  # no index either
    missing = tmp_path / "questions.txt"
    status, out, err = ask(config, capsys, "--batch", str(missing))
    assert (status, out, err) == (2, "", f"policybot: cannot read {missing}: No such file or directory\n")
    status, _, err = ask(config, capsys, "--batch", str(tmp_path))
    assert (status, err) == (2, f"policybot: cannot read {tmp_path}: Is a directory\n")


def test_ask_takes_a_question_or_a_batch_not_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")
    status, _, err = ask(config, capsys, "--batch", "-", "What is PCAST?")
    assert (status, err) == (2, "policybot: give a question or --batch FILE, not both\n")
    status, _, err = ask(config, capsys)
    assert status == 2 and "ask needs a question" in err and "--batch FILE" in err


@pytest.mark.slow
def test_a_pipe_reader_gets_each_answer_before_the_next_question_is_sent(
    tmp_path: Path, shipped_settings: Settings
) -> None:
    config = write_config(tmp_path / "config.yaml", KNOWLEDGE, shipped_settings.index_dir)
    command = [sys.executable, "-m", "bot.cli", "--config", str(config), "ask", "--batch", "-", "--json"]
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # as a pipe is
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=buffered,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    answers: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [answers.put(text) for text in process.stdout or ()], daemon=True).start()
    try:
        for question in (PILLARS, OBJECTIVES):
            process.stdin.write(question + "\n")
            process.stdin.flush()  # the pipe stays open: only a flushed answer can come back now
            assert json.loads(answers.get(timeout=120))["question"] == question
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()


def test_a_lines_conversation_is_read_and_checked() -> None:
    item = parse_line(1, line(id="q", conversation="thread-1", question="And the 2012 one?"))
    assert not isinstance(item, BadLine) and item is not None and item.conversation == "thread-1"
    assert parse_line(2, line(conversation=7, question="What is PCAST?")).conversation == "7"  # type: ignore[union-attr]
    bad = parse_line(3, line(conversation=["a"], question="What is PCAST?"))
    assert isinstance(bad, BadLine) and bad.error == '"conversation" must be a string or an integer'


@pytest.mark.slow
def test_lines_of_one_conversation_are_read_in_its_context_and_others_alone(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = questions_file(
        tmp_path,
        line(id=1, conversation="a", question="What did the 2011 PCAST report recommend?"),
        line(id=2, conversation="b", question="What is PCAST?"),
        line(id=3, conversation="a", question="And the 2012 one?"),
        line(id=4, question="And the 2012 one?"),
    )
    status, out, _ = ask(config, capsys, "--batch", batch, "--json")
    records = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert status == 0
    assert records[3]["interpreted_question"] == "What did the 2012 PCAST report recommend?"
    assert records[3]["conversation"] == "a"
    assert records[4]["interpreted_question"] == "And the 2012 one?" and "conversation" not in records[4]
    assert records[2]["interpreted_question"] == "What is PCAST?"
