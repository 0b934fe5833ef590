"""`policybot serve --http` processes sharing one state database, as replicas behind a load balancer,
and the signed requests Slack would send them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.slack.blocks import HELPFUL
from bot.state.database import Database
from bot.state.published import record_published_version
from tests.postgres_fixtures import PostgresServer
from tests.slack.fakeslack import (
    PROXY_ENV_VARS,
    Call,
    FakeSlack,
    block_action_payload,
    dm_event,
    encode_payload,
    signed_post,
)
from tests.state.stored import stored_votes

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replica-s3cret"
PILLARS = "What pillars do the AMP recommendations rest on?"


class Replica:
    """One bot process; its stderr is collected so a failure shows why."""

    def __init__(self, name: str, config: Path, env: dict[str, str]) -> None:
        self.name, self.config, self.env = name, config, env
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Replica:
        """Start the process and wait (up to 180 s) until it says it is online."""
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
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{_port(self.config)}/slack/events"

    def kill(self) -> None:
        """SIGKILL: nothing held in memory survives this."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, as at the end of a deployment."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


def start_all(*replicas: Replica) -> None:
    """Start the replicas side by side, as a deployment does."""
    starters = [threading.Thread(target=r.start) for r in replicas]
    for t in starters:
        t.start()
    for t in starters:
        t.join()


def replica_env(fake: FakeSlack) -> dict[str, str]:
    """This environment without proxies or PolicyBot/Slack settings, pointed at `fake`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_ENV_VARS and not k.startswith("POLICYBOT_") and not k.startswith("SLACK_")
    }
    return env | {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PYTHONPATH": str(ROOT),
    }


def _port(config: Path) -> int:
    return int(next(line for line in config.read_text().splitlines() if "http_port" in line).split(":")[1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replica_config(tmp_path: Path, name: str, index: Path, knowledge: Path, url: str) -> Path:
    """A config.yaml for replica `name`: its own port and pending file, the shared index and state database."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"knowledge_dir: {knowledge}\nindex_dir: {index}\nhistory_file: {tmp_path / 'hist'}\n"
        f"indexing:\n  reload_seconds: 0.2\n"
        f"slack:\n  http_port: {free_port()}\n  feedback_db: {tmp_path / name / 'unused.sqlite3'}\n"
        f"state:\n  url: {url}\n  pending_file: {tmp_path / name / 'pending.jsonl'}\n"
    )
    return path


def post_event(url: str, payload: dict[str, Any], retry_num: int | None = None) -> int:
    """POST an Events API body to `url`, signed; the HTTP status."""
    body = json.dumps(payload).encode()
    return signed_post(url, body, SECRET, retry_num=retry_num)[0]


def click(fake: FakeSlack, url: str, action: str, answer_id: str, user: str, reply_to: str) -> dict[str, Any]:
    """Click button `action` on answer `answer_id` through `url`; the body the bot posts to the response URL."""
    payload = block_action_payload(action, answer_id, user=user, response_url=fake.response_url(reply_to))
    status, _, _ = signed_post(url, encode_payload(payload), SECRET, content_type="application/x-www-form-urlencoded")
    assert status == 200
    return fake.wait_for_call(f"response/{reply_to}", timeout=10)[0].body


def answer_id(post: Call) -> str:
    """The answer id behind a posted answer's feedback buttons."""
    for block in post.body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == HELPFUL:
                return str(element["value"])
    raise AssertionError(f"no feedback buttons in {post.body['blocks']}")


def answer_text(post: Call) -> str:
    """The answer's own text, as the first section shows it (after a "Reading this as" line, if any)."""
    return str(next(b for b in post.body["blocks"] if b["type"] == "section")["text"]["text"])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 0.2 s; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@dataclass
class Deployment:
    """Two replicas `a` and `b`, the state database they share, and the index versions they may serve."""

    fake: FakeSlack
    db: Database
    a: Replica
    b: Replica
    first: str  # the shipped knowledge
    second: str  # with "three main pillars": index/CURRENT names it
    server: PostgresServer | None  # None when the state database is SQLite

    @property
    def both(self) -> tuple[Replica, Replica]:
        return self.a, self.b

    def publish(self, version: str) -> None:
        """Record `version` as `policybot index` does, and give the replicas (polling every 0.2 s) time to switch."""
        record_published_version(self.db, version)
        time.sleep(1.0)

    def ask(self, replica: Replica, question: str = PILLARS) -> Call:
        """DM `question` to `replica`; the answer it posts."""
        posted = len(self.fake.calls_to("chat.postMessage"))
        post_event(replica.url, dm_event(question))
        return self.fake.wait_for_call("chat.postMessage", count=posted + 1, timeout=20)[-1]

    def click(self, replica: Replica, action: str, answer: str, user: str, reply_to: str) -> dict[str, Any]:
        """`user` clicks button `action` on `answer` through `replica`; the body of the bot's reply."""
        return click(self.fake, replica.url, action, answer, user, reply_to)

    def votes_by(self, user: str) -> list[str]:
        """The votes stored in the shared database for `user`."""
        return [v["vote"] for v in stored_votes(self.db) if v["user"] == user]

    def log(self) -> str:
        """Everything both replicas wrote to stderr."""
        return "".join(self.a.lines + self.b.lines)
