"""Two `policybot serve --http` processes sharing one state database, as replicas behind a load balancer."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.slack.blocks import APOLOGY, HELPFUL, SHARE
from bot.state.database import Database, parse_url
from bot.state.feedback import FeedbackStore
from bot.state.published import published_version, record_published_version
from embeddings.index.build import build_index
from embeddings.index.loaded import current_version_name
from tests.postgres_fixtures import PASSWORD, PostgresServer
from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack, block_action_payload, dm_event, encode_payload, signed_post
from tests.state.stored import stored_votes

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replica-s3cret"
PILLARS = "What pillars do the AMP recommendations rest on?"


class Replica:
    """One bot process; its stderr is collected so a failure shows why."""

    def __init__(self, name: str, config: Path, env: dict[str, str]) -> None:
        self.name, self.config, self.env = name, config, env
        self.port = 0
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Replica:
        online = threading.Event()
        self.lines.append(f"--- {self.name} starts\n")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(self.config), "serve", "--http"],
            cwd=ROOT,
            env=self.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )

        def read(stream: Any) -> None:
            for line in stream:
                self.lines.append(line)
                if "is online" in line:
                    online.set()

        threading.Thread(target=read, args=(self.process.stderr,), daemon=True).start()
        deadline = time.monotonic() + 180
        while not online.wait(0.2):
            assert self.process.poll() is None and time.monotonic() < deadline, f"{self.name}: {''.join(self.lines)}"
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{_port(self.config)}/slack/events"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # nothing held in memory survives this
            self.process.wait(10)


def _port(config: Path) -> int:
    return int(next(line for line in config.read_text().splitlines() if "http_port" in line).split(":")[1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(tmp_path: Path, name: str, index: Path, knowledge: Path, url: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"knowledge_dir: {knowledge}\nindex_dir: {index}\nhistory_file: {tmp_path / 'hist'}\n"
        f"indexing:\n  reload_seconds: 0.2\n"
        f"slack:\n  http_port: {_free_port()}\n  feedback_db: {tmp_path / name / 'unused.sqlite3'}\n"
        f"state:\n  url: {url}\n  pending_file: {tmp_path / name / 'pending.jsonl'}\n"
    )
    return path


def _post(url: str, payload: dict[str, Any], retry_num: int | None = None) -> int:
    body = json.dumps(payload).encode()
    return signed_post(url, body, SECRET, retry_num=retry_num)[0]


def _click(fake: FakeSlack, url: str, action: str, answer_id: str, user: str, reply_to: str) -> dict[str, Any]:
    payload = block_action_payload(action, answer_id, user=user, response_url=fake.response_url(reply_to))
    status, _, _ = signed_post(url, encode_payload(payload), SECRET, content_type="application/x-www-form-urlencoded")
    assert status == 200
    return fake.wait_for_call(f"response/{reply_to}", timeout=10)[0].body


def _answer_id(post: Any) -> str:
    for block in post.body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == HELPFUL:
                return str(element["value"])
    raise AssertionError(f"no feedback buttons in {post.body['blocks']}")


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow
def test_two_replicas_answer_once_follow_the_published_version_and_lose_no_feedback(
    request: pytest.FixtureRequest,
    state_url: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    knowledge_copy: Path,
    embedder: Any,
    shipped_settings: Settings,
) -> None:
    index = tmp_path / "index"
    splitter = shipped_settings.splitter.settings()
    shutil.copytree(shipped_settings.index_dir, index)  # the shipped knowledge, already embedded
    first = str(current_version_name(index))
    db = Database(parse_url(state_url, tmp_path), shared=True)
    from bot.state.migrations import migrate

    migrate(db)
    record_published_version(db, first)
    doc = knowledge_copy / "united-states" / "key-policies.md"
    doc.write_text(doc.read_text().replace("three pillars", "three main pillars"))
    build_index(
        knowledge_copy, index, embedder, splitter
    )  # only the edited passages are embedded; CURRENT moves on; the database still names `first`
    second = str(current_version_name(index))

    env = {k: v for k, v in os.environ.items() if k not in PROXY_ENV_VARS and not k.startswith("POLICYBOT_")}
    env |= {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PYTHONPATH": str(ROOT),
    }
    a = Replica("a", _config(tmp_path, "a", index, knowledge_copy, state_url), env)
    b = Replica("b", _config(tmp_path, "b", index, knowledge_copy, state_url), env)
    starters = [threading.Thread(target=r.start) for r in (a, b)]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    try:
        # The same event reaches both replicas (a duplicate delivery), then Slack retries it at one: one answer.
        event = dm_event(PILLARS, event_id="EvTWICE")
        results: list[int] = []
        posts = [threading.Thread(target=lambda r=r: results.append(_post(r.url, event))) for r in (a, b)]
        for t in posts:
            t.start()
        for t in posts:
            t.join()
        assert results == [200, 200]
        assert _post(b.url, event, retry_num=1) == 200
        [answer] = fake_slack.wait_for_call("chat.postMessage", timeout=20)
        time.sleep(1.5)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1, "answered more than once"
        assert "three pillars" in answer.body["blocks"][0]["text"]["text"]  # the version the database names
        answer_id = _answer_id(answer)

        # A vote clicked on either replica counts, whichever posted the answer.
        assert _click(fake_slack, b.url, HELPFUL, answer_id, "U2", "vote-b")["text"].startswith("Thanks")

        # `policybot index` elsewhere records the new version: both replicas switch to it.
        record_published_version(db, second)
        for replica, n in ((a, 2), (b, 3)):
            time.sleep(1.0)
            _post(replica.url, dm_event(PILLARS))
            latest = fake_slack.wait_for_call("chat.postMessage", count=n, timeout=20)[-1]
            assert "three main pillars" in latest.body["blocks"][0]["text"]["text"], replica.name

        if state_url.startswith("postgresql"):
            server: PostgresServer = request.getfixturevalue("postgres_server")
            server.stop()  # the database goes away mid-run
            try:
                assert _click(fake_slack, a.url, HELPFUL, answer_id, "U3", "vote-down")["text"].startswith("Thanks")
                assert _click(fake_slack, a.url, SHARE, answer_id, "U3", "share-down")["text"] == APOLOGY
                a.kill()  # the replica holding the kept vote dies before the database is back
            finally:
                server.start()
            assert _click(fake_slack, b.url, SHARE, answer_id, "U1", "share-up")["response_type"] == "in_channel"
        else:
            a.kill()
        a.start()  # restarted: whatever it kept is written, and it serves the published version at once
        assert _click(fake_slack, a.url, HELPFUL, answer_id, "U4", "vote-a")["text"].startswith("Thanks")
        store = FeedbackStore(db)
        voters = 4 if state_url.startswith("postgresql") else 3
        _wait(lambda: store.report().helpful == voters - 1, 15, f"votes missing: {stored_votes(db)}")
        assert published_version(db) == second
        logged = "".join(a.lines + b.lines)
        assert PASSWORD not in logged and ("***@127.0.0.1" in logged or state_url.startswith("sqlite"))
    finally:
        for replica in (a, b):
            if replica.process is not None and replica.process.poll() is None:
                replica.process.terminate()
                replica.process.wait(20)
        db.close()
