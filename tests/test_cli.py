"""The `policybot` command and the REPL, as a user runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.cli import main
from bot.repl import run_repl
from embeddings.index.versions import current_version_name
from tests.conftest import FakeEmbedder, write_config


def repl_transcript(answerer: Answerer, lines: list[str]) -> str:
    pending = iter(lines)
    out: list[str] = []

    def read(prompt: str) -> str:
        try:
            line = next(pending)
        except StopIteration:
            raise EOFError from None
        out.append(prompt + line)
        return line

    run_repl(answerer, read, out.append)
    return "\n".join(out)


def test_missing_index_says_how_to_build_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")
    assert main(["--config", str(config), "ask", "What is PCAST?"]) == 1
    err = capsys.readouterr().err
    assert "no index found" in err and "policybot index" in err
    assert "Traceback" not in err


def test_empty_question_gets_a_usage_hint_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")
    assert main(["--config", str(config), "ask", "  "]) == 2
    err = capsys.readouterr().err
    assert "Ask a question in words" in err and "Traceback" not in err


def test_bad_config_value_stops_the_start_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "k", tmp_path / "i", "retrieval:\n  top_k: ten\n")
    assert main(["--config", str(config), "eval"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "retrieval.top_k" in err and "'ten'" in err


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """`policybot index` embeds with the fake embedder."""
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings, **_: FakeEmbedder())


@pytest.mark.usefixtures("fake_model")
def test_index_shows_its_report_then_says_replicas_were_not_told(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg", reason="needs the postgres extra to reach for the server")
    down = "state:\n  url: postgresql://policybot:secret@127.0.0.1:1/state\n"
    config = write_config(tmp_path / "config.yaml", knowledge_copy, tmp_path / "index", down)
    assert main(["--config", str(config), "index"]) == 1
    captured = capsys.readouterr()
    version = current_version_name(tmp_path / "index")
    assert f"9 added, 0 changed, 0 removed, 0 unchanged; 0 problems; index {version} published" in captured.out
    assert captured.err.startswith("policybot: cannot reach the state database postgresql://policybot:***@127.0.0.1:1")
    assert captured.err.endswith(
        f"; index {version} is published in {tmp_path / 'index'}/CURRENT, but replicas keep serving "
        "the one before until `policybot index` can record it\n"
    )


@pytest.mark.usefixtures("fake_model")
def test_replicas_are_told_of_a_refused_version_only_when_it_is_forced(
    knowledge_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("bot.answering.gate.EvaluationGate.from_settings", lambda *_: lambda _: (False, "worse"))
    shared = "state:\n  url: sqlite:///var/state.sqlite3\n"
    config = write_config(tmp_path / "config.yaml", knowledge_copy, tmp_path / "index", shared)
    assert main(["--config", str(config), "index", "--dry-run"]) == 0
    assert main(["--config", str(config), "index"]) == 3
    assert "replicas sharing" not in capsys.readouterr().err
    assert main(["--config", str(config), "index", "--force"]) == 0
    version = current_version_name(tmp_path / "index")
    assert (
        capsys.readouterr().err
        == f"worse\nreplicas sharing sqlite:///{tmp_path}/var/state.sqlite3 now serve index {version}\n"
    )


def test_eval_without_an_evaluation_set_says_how_to_name_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")
    assert main(["--config", str(config), "eval"]) == 2
    assert "set eval_set in config.yaml or pass --set FILE" in capsys.readouterr().err


def test_eval_conversations_refuses_a_set_it_would_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "knowledge", tmp_path / "index")
    assert main(["--config", str(config), "eval", "--conversations", "--set", "mine.yaml"]) == 2
    assert "pass the conversations file as --conversations mine.yaml" in capsys.readouterr().err


def test_eval_reads_the_configured_set_relative_to_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config.yaml", tmp_path / "k", tmp_path / "i", "eval_set: evals/mine.yaml\n")
    assert main(["--config", str(config), "eval"]) == 1  # read before the model loads
    assert f"{tmp_path / 'evals' / 'mine.yaml'}: cannot read the evaluation set" in capsys.readouterr().err


@pytest.mark.slow
def test_index_then_ask_json_from_the_command_line(
    knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (knowledge_copy / "broken.md").write_bytes(b"\xff\xfe not text")
    config = write_config(tmp_path / "config.yaml", knowledge_copy, tmp_path / "index")
    assert main(["--config", str(config), "index"]) == 0
    captured = capsys.readouterr()
    assert "skipped broken.md: is not UTF-8 text" in captured.err
    assert "1 documents, 9 passages: 9 added" in captured.out

    assert main(["--config", str(config), "ask", "--json", "-k", "3", "Who commissioned the key reports?"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["abstained"] is False
    assert "President Obama" in result["answer"]
    assert result["sources"][0]["source"].startswith("https://")
    for quote in result["quotes"]:  # verbatim from the source it cites (a heading from its section)
        assert quote["text"] in result["sources"][quote["citation"] - 1]["section" if quote["heading"] else "text"]


@pytest.fixture
def run_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config over the shipped knowledge with an empty index folder and no Slack tokens (so `run` starts the REPL)."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    knowledge = Path(__file__).resolve().parent.parent / "knowledge"
    return write_config(tmp_path / "config.yaml", knowledge, tmp_path / "index")


@pytest.mark.slow
def test_run_builds_the_missing_index_and_starts_the_repl(
    run_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = run_config
    monkeypatch.setattr("sys.stdin", io.StringIO("What is PCAST?\n:quit\n"))
    assert main(["--config", str(config), "run"]) == 0
    captured = capsys.readouterr()
    assert "building it" in captured.err
    assert "Council of Advisors" in captured.out
    assert (tmp_path / "index" / "CURRENT").is_file()


@pytest.mark.slow
def test_repl_answers_shows_sources_and_survives_bad_input(answerer: Answerer) -> None:
    transcript = repl_transcript(
        answerer,
        [
            "",
            ":sources",
            "What pillars do the AMP recommendations rest on?",
            ":sources",
            "  ",
            ":bogus",
            "x" * 5000,
            ":help",
            ":quit",
            "never read",
        ],
    )
    assert "Ask a question first" in transcript
    assert "three pillars" in transcript
    assert "Sources:" in transcript
    assert "score " in transcript and "united-states/key-policies.md#2" in transcript
    assert "Unknown command ':bogus'" in transcript
    assert "characters long" in transcript
    assert ":sources   show the full passages" in transcript
    assert "never read" not in transcript


@pytest.mark.slow
def test_repl_and_ask_print_the_same_answer(answerer: Answerer) -> None:
    from bot.render.terminal import render_text

    question = "What does the strategic plan say about federal procurement?"
    assert render_text(answerer.ask(question)) in repl_transcript(answerer, [question])


@pytest.mark.slow
def test_run_repairs_a_damaged_index_before_starting_the_repl(
    run_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = run_config
    assert main(["--config", str(config), "index"]) == 0
    current = tmp_path / "index" / "versions" / current_version_name(tmp_path / "index")
    with (current / "vectors.faiss").open("r+b") as vectors:
        vectors.truncate(100)
    monkeypatch.setattr("sys.stdin", io.StringIO("What is PCAST?\n:quit\n"))
    assert main(["--config", str(config), "run"]) == 0
    captured = capsys.readouterr()
    assert "cannot be used (vectors.faiss does not match its checksum" in captured.err
    assert "Council of Advisors" in captured.out


def test_a_missing_gate_set_is_named_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_model(settings: object, building: bool = False) -> None:
        raise AssertionError("the model was loaded before the config was checked")

    monkeypatch.setattr("bot.wiring.load_embedder", no_model)
    gate = "indexing:\n  gate_eval_set: checks/eval.yaml\n"
    config = write_config(tmp_path / "config.yaml", tmp_path / "k", tmp_path / "i", gate)
    assert main(["--config", str(config), "index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"policybot: {config}: indexing.gate_eval_set must be an evaluation set file that exists")
    assert str(tmp_path / "checks" / "eval.yaml") in err and err.count("\n") == 1


@pytest.mark.slow
def test_a_question_with_invalid_utf8_is_answered_with_a_notice(
    knowledge_copy: Path,
    tmp_path: Path,
    embedder: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings, **_: embedder)
    config = write_config(tmp_path / "config.yaml", knowledge_copy, tmp_path / "index")
    assert main(["--config", str(config), "index"]) == 0
    capsys.readouterr()
    # Python hands argv bytes that are not UTF-8 (here 0xff) to main() as lone surrogates
    assert main(["--config", str(config), "ask", "--json", "Who commissioned the key \udcffreports?"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "policybot: the question held bytes that are not UTF-8; each was replaced with \ufffd\n"
    result = json.loads(captured.out)
    assert result["question"] == "Who commissioned the key \ufffdreports?"
    assert "President Obama" in result["answer"]


@pytest.mark.slow
def test_a_piped_repl_survives_a_line_of_invalid_utf8(answerer: Answerer, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.repl import stream_reader

    piped = io.BytesIO(b"What is PCAST\xff\xfe?\nWhat pillars do the AMP recommendations rest on?\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(piped, encoding="utf-8"))  # stdin as a pipe gives it
    out: list[str] = []
    run_repl(answerer, stream_reader(), out.append)
    transcript = "\n".join(out)
    assert transcript.count("not UTF-8; each was replaced with \ufffd") == 1
    assert "Council of Advisors" in transcript and "three pillars" in transcript


def test_each_skipped_document_is_reported_once(knowledge_copy: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    (knowledge_copy / "broken.md").write_bytes(b"\xff\xfe not text")
    config = write_config(tmp_path / "config.yaml", knowledge_copy, tmp_path / "index")
    fake = "import bot.wiring, tests.conftest as c; bot.wiring.load_embedder = lambda s, **_: c.FakeEmbedder()"
    for verbose in ([], ["-v"]):  # a real process: its stderr is what the user sees
        argv = [*verbose, "--config", str(config), "index", "--full"]
        command = f"{fake}; from bot.cli import main; raise SystemExit(main({argv!r}))"
        run = subprocess.run(
            [sys.executable, "-c", command], cwd=Path(__file__).parent.parent, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        assert run.stderr.count("broken.md: is not UTF-8 text") == 1


@pytest.mark.slow
def test_the_repl_session_is_one_conversation_until_new(answerer: Answerer) -> None:
    transcript = repl_transcript(
        answerer,
        ["What did the 2011 PCAST report recommend?", "And the 2012 one?", ":history", ":new", "And the 2012 one?"],
    )
    assert transcript.count("Reading this as: What did the 2012 PCAST report recommend?") == 1
    assert "2. And the 2012 one?\n   read as: What did the 2012 PCAST report recommend?" in transcript
    assert "New conversation" in transcript
    assert transcript.rstrip().endswith("policybot> And the 2012 one?") is False  # it was answered, alone
