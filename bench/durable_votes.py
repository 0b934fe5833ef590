"""Votes under kill -9: every vote `policybot serve --http` answered with HTTP 200 must be in its state database.

Runs the real bot (`python -m bot.cli serve --http`, its state in a SQLite file) on loopback, with
the FakeSlack stand-in as Slack's Web API and response_url. Signed "Helpful"/"Not helpful" clicks,
each a distinct (answer, user) pair, are sent a few at a time at a steady rate, while the bot is
killed with SIGKILL at random moments and restarted. A click refused because the bot was down is
clicked again once it is back (a fresh signed request, as a user would); a click that was sent but
got no reply (the kill cut it) is left unacknowledged. At the end the database is read: each
acknowledged vote must be stored, with its value.

    .venv/bin/python bench/durable_votes.py [--votes 400] [--rate 25] [--seed 1] [--backend onnx] [--repo PATH]

`--repo` runs the bot from another checkout (e.g. one before a change) with this bench. Exit 1 if
an acknowledged vote is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.slack.blocks import HELPFUL, NOT_HELPFUL  # noqa: E402
from bot.state.feedback import HELPFUL as HELPFUL_VOTE  # noqa: E402
from bot.state.feedback import NOT_HELPFUL as NOT_HELPFUL_VOTE  # noqa: E402
from bot.state.feedback import FeedbackStore  # noqa: E402
from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack, block_action_payload, encode_payload, signed_post  # noqa: E402
from tests.state.answers import stored_answer  # noqa: E402

SECRET = "durable-votes-secret"
FORM = "application/x-www-form-urlencoded"
ANSWERS = 20  # votes are spread over this many posted answers, one per (answer, user)


@dataclass
class Vote:
    answer: str
    user: str
    button: str
    status: str = "pending"  # "200", "no reply" (sent, cut by a kill), or another HTTP status
    tries: int = 0


class Bot:
    """One `serve --http` process at a time: started, waited for, killed with SIGKILL."""

    def __init__(self, repo: Path, config: Path, env: dict[str, str]) -> None:
        self.repo, self.config, self.env = repo, config, env
        self.process: subprocess.Popen[str] | None = None
        self.starts: list[float] = []

    def start(self) -> None:
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(self.config), "serve", "--http"],
            cwd=self.repo,
            env=self.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stderr is not None
        lines = []
        for line in self.process.stderr:
            lines.append(line)
            if "is online" in line:
                break
        else:
            raise SystemExit(f"the bot did not start:\n{''.join(lines)[-3000:]}")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep the pipe drained
        self.starts.append(time.monotonic() - started)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


def click(url: str, fake: FakeSlack, vote: Vote) -> str | None:
    """Send one signed click; its HTTP status, "no reply", or None when refused (nothing was sent)."""
    name = f"{vote.answer}-{vote.user}"  # the "Thanks" note goes to response/<name>, the modal to trigger <name>
    payload = block_action_payload(
        vote.button, vote.answer, user=vote.user, response_url=fake.response_url(name), trigger_id=name
    )
    try:
        return str(signed_post(url, encode_payload(payload), SECRET, content_type=FORM)[0])
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        return "no reply"
    except (ConnectionError, TimeoutError, OSError):
        return "no reply"


def send_all(votes: list[Vote], url: str, fake: FakeSlack, up: threading.Event, rate: float, workers: int) -> None:
    """Send every vote, `workers` at a time, `rate` a second in all; one refused waits for the bot and goes again."""
    queue = list(reversed(votes))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                vote = queue.pop()
            while vote.status == "pending":
                up.wait()
                vote.tries += 1
                outcome = click(url, fake, vote)
                if outcome is None:
                    time.sleep(0.05)
                    continue
                vote.status = outcome
            time.sleep(workers / rate)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def write_config(work: Path, port: int, backend: str) -> Path:
    config = work / "config.yaml"
    config.write_text(
        f"knowledge_dir: {ROOT / 'knowledge'}\nindex_dir: {work / 'index'}\nhistory_file: {work / 'history'}\n"
        f"backend: {backend}\n"
        f"slack:\n  http_host: 127.0.0.1\n  http_port: {port}\n  feedback_db: {work / 'state.sqlite3'}\n"
    )
    return config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=400, help="votes to send (distinct answer and user each)")
    parser.add_argument("--rate", type=float, default=25.0, help="votes per second while the bot is up")
    parser.add_argument("--workers", type=int, default=6, help="votes in flight at once")
    parser.add_argument("--uptime", type=float, nargs=2, default=(0.2, 1.5), help="seconds up before each kill")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--backend", default="onnx", help="the model's runtime: onnx starts in ~1 s, torch in ~6 (votes never use it)"
    )
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose bot is run (default: this one)")
    args = parser.parse_args()
    for name in PROXY_ENV_VARS:
        os.environ.pop(name, None)
    rng = random.Random(args.seed)
    started = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="policybot-durable-votes-"))
    port = free_port()
    config = write_config(work, port, args.backend)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "SLACK_"))}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(args.repo.resolve())}
    print(f"building the index of the shipped knowledge in {work} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "index"],
        cwd=args.repo, env=env, check=True, capture_output=True,
    )  # fmt: skip
    store = FeedbackStore(work / "state.sqlite3")  # the answers the buttons belong to, as if posted earlier
    answer_ids = [f"answer{n:02d}" for n in range(ANSWERS)]
    for answer_id in answer_ids:
        store.record_answer(answer_id, stored_answer(), [], "U0", "C1")
    users = [f"U{n:03d}" for n in range(-(-args.votes // ANSWERS))]
    buttons = [rng.choice([HELPFUL, NOT_HELPFUL]) for _ in range(args.votes)]
    votes = [Vote(answer_ids[n % ANSWERS], users[n // ANSWERS], button) for n, button in enumerate(buttons)]

    url = f"http://127.0.0.1:{port}/slack/events"
    with FakeSlack() as fake:
        env |= {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}
        bot = Bot(args.repo.resolve(), config, env)
        up = threading.Event()
        sender = threading.Thread(target=send_all, args=(votes, url, fake, up, args.rate, args.workers))
        kills = 0
        bot.start()
        up.set()
        sender.start()
        while sender.is_alive():
            sender.join(rng.uniform(*args.uptime))
            if not sender.is_alive():
                break
            up.clear()
            bot.kill()
            kills += 1
            bot.start()
            up.set()
        time.sleep(0.5)  # replies to the last clicks (the "Thanks" notes) land
        bot.kill()
        confirmed = {c.method.removeprefix("response/") for c in fake.calls if c.method.startswith("response/")}
        confirmed |= {str(c.body.get("trigger_id")) for c in fake.calls_to("views.open")}

    with store.db.transaction() as tx:
        rows = tx.execute('SELECT answer_id, "user", vote FROM votes').fetchall()
    stored = {(r["answer_id"], r["user"]): r["vote"] for r in rows}
    value = {HELPFUL: HELPFUL_VOTE, NOT_HELPFUL: NOT_HELPFUL_VOTE}
    statuses = Counter(v.status for v in votes)
    acked = [v for v in votes if v.status == "200"]
    lost = [v for v in acked if stored.get((v.answer, v.user)) != value[v.button]]
    unacked_stored = sum((v.answer, v.user) in stored for v in votes if v.status != "200")
    unconfirmed = sum(f"{v.answer}-{v.user}" not in confirmed for v in acked)
    seconds = time.monotonic() - started

    starts = f"{min(bot.starts):.1f}-{max(bot.starts):.1f} s"
    print(f"\nbot: {args.repo.resolve()}; {kills} kill -9s, each start (model load included) took {starts}")
    print(f"votes sent: {len(votes)} ({sum(v.tries for v in votes)} requests; refused while the bot was down: resent)")
    print(f"replies: {dict(statuses)}")
    print(f"acknowledged (HTTP 200): {len(acked)}; of these stored: {len(acked) - len(lost)}; lost: {len(lost)}")
    print(f"acknowledged but no 'Thanks' note or modal (killed before it was sent): {unconfirmed}")
    print(f"not acknowledged but stored anyway (killed after the commit, before the reply): {unacked_stored}")
    print(f"{seconds:.0f} s in all")
    reproduce = f"--votes {args.votes} --rate {args.rate:g} --workers {args.workers} --seed {args.seed}"
    reproduce += f" --backend {args.backend}" + (f" --repo {args.repo}" if args.repo != ROOT else "")
    print(f"reproduce: .venv/bin/python bench/durable_votes.py {reproduce}")
    for v in lost[:10]:
        print(f"  lost: {v.user} on {v.answer} ({v.button}): stored {stored.get((v.answer, v.user))!r}")
    print(json.dumps({"acknowledged": len(acked), "lost": len(lost), "kills": kills}))
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
