"""Storage faults: a full disk while writing the index or the feedback store, a read-only index folder,
corrupt SQLite files. Each gives one clear error, the published index keeps serving, and no vote
already stored is lost. Real files, real FAISS, real SQLite; a tiny tmpfs plays the full disk."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.cli import main
from bot.config import SlackConfig
from bot.errors import FeedbackError
from bot.slack.app import build_app
from bot.slack.blocks import APOLOGY, FEEDBACK_MODAL
from bot.slack.blocks import HELPFUL as BUTTON_HELPFUL
from bot.slack.listeners.actions import CORRECTION_NOT_SAVED
from bot.state.feedback import HELPFUL, NOT_HELPFUL, FeedbackStore
from embeddings.errors import IndexError_
from embeddings.index.build import build_index
from embeddings.index.loaded import current_version_name, load_index
from embeddings.ingest.splitter import SplitterSettings
from tests.conftest import FakeEmbedder, write_config
from tests.slack.fakeslack import FakeSlack, block_action_payload, dm_event, view_submission_payload
from tests.state.stored import stored_votes


def _mount(path: Path, size: str, options: str = "") -> bool:
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted afterwards; skipped where mounting is not permitted."""
    disk = tmp_path / "disk"
    if not _mount(disk, "4m"):
        pytest.skip("mounting a tmpfs needs root (or CAP_SYS_ADMIN); the disk-full cases cannot be staged here")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Write a filler file until the disk is full (minus `leave` bytes); returns it so it can be removed."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    if leave:
        with open(filler, "r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


def _answer(question: str = "What pillars?") -> Answer:
    return Answer(question, (), (), abstained=True, reason="test", index_version="v1")


# -- The index ---------------------------------------------------------------------------------------


def test_a_full_disk_while_indexing_leaves_the_published_index_serving(
    small_disk: Path, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = small_disk / "index"
    embedder = FakeEmbedder()
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    before = current_version_name(index)
    (knowledge_copy / "big.md").write_text(
        "# Big\n\n" + "\n\n".join(f"Paragraph {i} about advanced manufacturing policy." for i in range(4000))
    )
    filler = fill(small_disk, leave=64 * 1024)
    with pytest.raises(IndexError_, match=r"cannot write the index .*(No space left|disk is full|full)") as raised:
        build_index(knowledge_copy, index, embedder, SplitterSettings())
    assert before in str(raised.value) and "still serves" in str(raised.value)
    assert current_version_name(index) == before
    assert len(load_index(index).passages) > 0  # the old version loads and answers
    assert [p.name for p in (index / "versions").iterdir() if p.name.startswith(".")] == []  # no half-written folder
    config = write_config(small_disk.parent / "config.yaml", knowledge_copy, index)
    filler.unlink()
    filler = fill(small_disk, leave=64 * 1024)
    assert main(["--config", str(config), "sources"]) == 0  # still readable from the CLI
    capsys.readouterr()
    filler.unlink()
    report = build_index(knowledge_copy, index, embedder, SplitterSettings())  # space again: the run completes
    assert report.published and current_version_name(index) != before


def test_a_read_only_index_folder_gives_a_clear_error_and_keeps_serving(tmp_path: Path, knowledge_copy: Path) -> None:
    index = tmp_path / "index"
    if not _mount(index, "4m"):
        pytest.skip("mounting a tmpfs needs root (or CAP_SYS_ADMIN); cannot make a read-only folder as root otherwise")
    try:
        embedder = FakeEmbedder()
        build_index(knowledge_copy, index, embedder, SplitterSettings())
        before = current_version_name(index)
        (knowledge_copy / "new.md").write_text("# New\n\nA new paragraph about robotics grants.\n")
        subprocess.run(["mount", "-o", "remount,ro", str(index)], check=True)
        with pytest.raises(IndexError_, match=r"cannot write the index .*Read-only file system"):
            build_index(knowledge_copy, index, embedder, SplitterSettings())
        assert current_version_name(index) == before and load_index(index).passages
    finally:
        subprocess.run(["umount", "-l", str(index)], check=False)


def test_a_corrupt_passage_store_is_named_and_the_old_version_keeps_serving(
    tmp_path: Path, knowledge_copy: Path
) -> None:
    from bot.config import load_settings
    from bot.reloader import IndexReloader
    from embeddings.retrieval import Retriever

    index = tmp_path / "index"
    embedder = FakeEmbedder()
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    config = write_config(tmp_path / "config.yaml", knowledge_copy, index, "model: fake-hash\n")
    retriever = Retriever(load_index(index), embedder)
    reloader = IndexReloader(retriever, load_settings(config))
    old = retriever.index.version
    (knowledge_copy / "new.md").write_text("# New\n\nA new paragraph about robotics grants.\n")
    build_index(knowledge_copy, index, embedder, SplitterSettings())
    store = index / "versions" / str(current_version_name(index)) / "passages.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    assert reloader.check() is False and retriever.index.version == old  # the old version keeps serving
    with pytest.raises(IndexError_, match=r"passages.sqlite: the index file is damaged .*policybot index --full"):
        load_index(index)


# -- The feedback store ------------------------------------------------------------------------------


def test_a_full_disk_loses_no_stored_vote_and_the_store_recovers(small_disk: Path) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    for n in range(20):
        store.record_answer(f"a{n}", _answer(f"question {n}"), [], "U1", "C1")
        store.record_vote(f"a{n}", "U1", "C1", HELPFUL)
    filler = fill(small_disk)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for n in range(20, 400):  # big answers, until the disk refuses one
            store.record_answer(f"a{n}", _answer("x" * 20_000), [{"t": "y" * 20_000}], "U1", "C1")
    failed_at = n
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.record_vote("a0", "U2", "C1", NOT_HELPFUL)  # may or may not fit: the next big write must not
        store.record_answer("big", _answer("x" * 200_000), [], "U1", "C1")
    report = store.report()
    assert report.answers == failed_at and report.helpful == 20  # every vote stored before is still there
    assert sqlite3.connect(store.db.path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    filler.unlink()
    assert store.record_vote("a1", "U3", "C1", NOT_HELPFUL)  # space again: writes succeed
    assert store.report().not_helpful >= 1


def test_a_corrupt_feedback_file_is_named_at_start_and_kept_for_inspection(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"garbage, not SQLite" * 200)
    with pytest.raises(FeedbackError, match=r"feedback.sqlite3 is not a readable SQLite database") as raised:
        FeedbackStore(path)
    assert "move it aside" in str(raised.value)
    assert path.read_bytes().startswith(b"garbage")  # nothing overwritten


def test_the_feedback_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "var" / "feedback.sqlite3")
    store.record_answer("a1", _answer(), [], "U1", "C1")
    assert oct(os.stat(store.db.path).st_mode & 0o777) == oct(0o600)
    shutil.rmtree(tmp_path / "var")


@pytest.mark.slow
def test_in_slack_a_full_feedback_disk_still_answers_and_apologises_for_a_lost_vote(
    small_disk: Path, fake_slack: FakeSlack, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    store.record_answer("earlier", _answer(), [], "U1", "C1")
    store.record_vote("earlier", "U1", "C1", HELPFUL)
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    bolt_socket_mode(build_app(SlackConfig(feedback_db=store.db.path), answerer, client, store, working_after=5.0))
    filler = fill(small_disk)
    fake_slack.send_envelope("events_api", dm_event("What pillars do the AMP recommendations rest on?"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=10)
    assert "[1]" in post.body["blocks"][0]["text"]["text"]  # answered, only without feedback buttons
    click = block_action_payload(BUTTON_HELPFUL, "earlier", user="U2", response_url=fake_slack.response_url("vote"))
    for _ in range(200):  # votes are tiny: keep clicking until the disk refuses one
        fake_slack.send_envelope("interactive", click)
        [reply] = fake_slack.wait_for_call("response/vote", timeout=5)[-1:]
        if reply.body.get("text") == APOLOGY:
            break
        fake_slack.calls.clear()
    assert reply.body["text"] == APOLOGY  # the user is told, not left in silence
    filler.unlink()
    votes = {(v["user"], v["vote"]) for v in stored_votes(store.db)}
    assert ("U1", HELPFUL) in votes  # the earlier vote survived


def test_in_slack_a_correction_that_cannot_be_saved_keeps_the_modal_open_and_says_so(
    small_disk: Path, fake_slack: FakeSlack, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    store = FeedbackStore(small_disk / "feedback.sqlite3")
    store.record_answer("earlier", _answer(), [], "U1", "C1")
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    bolt_socket_mode(build_app(SlackConfig(feedback_db=store.db.path), answerer, client, store))
    filler = fill(small_disk)
    correction = {"correct_answer": {"value": "x" * 2900}, "correct_source": {"value": "Key Policies"}}
    for _ in range(200):  # keep submitting until the full disk refuses one
        ack = fake_slack.wait_for_ack(
            fake_slack.send_envelope("interactive", view_submission_payload(FEEDBACK_MODAL, "earlier", correction))
        )
        if ack.get("payload", {}).get("response_action") == "errors":
            break
    assert ack["payload"] == {"response_action": "errors", "errors": {"correct_answer": CORRECTION_NOT_SAVED}}
    filler.unlink()
    saved = len(store.report().corrections)
    ack = fake_slack.wait_for_ack(
        fake_slack.send_envelope("interactive", view_submission_payload(FEEDBACK_MODAL, "earlier", correction))
    )
    assert "payload" not in ack  # the modal closes: stored
    assert len(store.report().corrections) == saved + 1
