"""Slack's 3 s acknowledgement under pressure: slow answers piling up, Slack's 429s and a stopped PostgreSQL.

The real bot (slack-bolt, the real answerer over the shipped knowledge, each answer made `--slow`
seconds slower) serves HTTP mode on waitress with its state in a real PostgreSQL, FakeSlack as Slack.
It sends `--events` questions at once (each a DM event, delivered as Slack does: 3 s, then retries),
rate-limits chat.postMessage (Retry-After 5), stops PostgreSQL, then sends `--events` more events,
`--commands` /policy commands and `--clicks` "Helpful" clicks, all at once.

Prints, per kind: acknowledged within 3 s (first attempt), the slowest acknowledgement, and whether
every question got exactly one reply (an answer, or "busy" when the queue was full).

    .venv/bin/python bench/slack_acks.py [--events 50] [--commands 50] [--clicks 50] [--slow 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.blocks import HELPFUL  # noqa: E402
from bot.slack.http_server import make_http_server  # noqa: E402
from bot.slack.once import Once  # noqa: E402
from bot.slack.work import BUSY  # noqa: E402
from bot.state.database import Database, parse_url  # noqa: E402
from bot.state.feedback import FeedbackStore  # noqa: E402
from bot.state.migrations import migrate  # noqa: E402
from bot.state.pending import PendingWrites  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from tests.postgres_fixtures import PostgresServer, _bin_dir  # noqa: E402
from tests.slack.asking import click, command  # noqa: E402
from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack, deliver_event, dm_event  # noqa: E402
from tests.slack.replies import SECRET  # noqa: E402
from tests.slack.slow import SlowAnswerer  # noqa: E402
from tests.state.answers import stored_answer  # noqa: E402

QUESTION = "What pillars do the AMP recommendations rest on?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50, help="questions before the outage, and as many during it")
    parser.add_argument("--commands", type=int, default=50, help="/policy commands during the outage")
    parser.add_argument("--clicks", type=int, default=50, help='"Helpful" clicks during the outage')
    parser.add_argument("--slow", type=float, default=0.5, help="seconds added to each answer")
    args = parser.parse_args()
    for name in PROXY_ENV_VARS:
        os.environ.pop(name, None)
    bin_dir = _bin_dir()
    if bin_dir is None:
        print("PostgreSQL server binaries (pg_ctl, initdb) not found: apt-get install -y postgresql")
        return 2

    settings = load_settings(ROOT / "config.yaml")
    work = Path(tempfile.mkdtemp(prefix="policybot-acks-"))
    embedder = SentenceTransformerEmbedder()
    build_index(settings.knowledge_dir, work / "index", embedder, settings.splitter)
    real = build_answerer(settings.model_copy(update={"index_dir": work / "index"}), embedder=embedder)
    postgres = PostgresServer(bin_dir)
    postgres.start()
    try:
        db = Database(parse_url(postgres.url(postgres.create_database()), work), shared=True)
        migrate(db)
        store = FeedbackStore(db, PendingWrites(work / "pending.jsonl"))
        store.record_answer("a1", stored_answer(QUESTION), [], "U1", "C1")
        total = 2 * args.events + args.commands
        slack = settings.slack.model_copy(update={"answer_queue": total})  # room for every question: none is "busy"
        with FakeSlack() as fake:
            client = WebClient(token=fake.bot_token, base_url=fake.api_url)
            once = Once.kept_in(db)
            app = build_app(slack, SlowAnswerer(real, args.slow), client, store, SECRET, working_after=5.0, once=once)
            server = make_http_server(app, "127.0.0.1", 0, SECRET, once)
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            url = f"http://127.0.0.1:{server.server_port}/slack/events"
            try:
                return _run(fake, url, postgres, args)
            finally:
                server.shutdown()
    finally:
        postgres.destroy()


def _run(fake: FakeSlack, url: str, postgres: PostgresServer, args: argparse.Namespace) -> int:
    acks: dict[str, list[float | None]] = {"event": [], "command": [], "click": []}
    retried: Counter[str] = Counter()

    def event(channel: str) -> None:
        attempts = deliver_event(url, json.dumps(dm_event(QUESTION, channel=channel)).encode(), SECRET)
        first = attempts[0]
        acks["event"].append(first.seconds if first.status == 200 else None)
        retried["event"] += len(attempts) - 1

    def post(kind: str, send: Callable[[], int]) -> None:
        started = time.monotonic()
        try:
            status: int | None = send()
        except OSError:  # no answer within Slack's 3 s
            status = None
        acks[kind].append(time.monotonic() - started if status == 200 else None)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2 * args.events + args.commands + args.clicks) as pool:
        list(pool.map(event, [f"DBEFORE{n}" for n in range(args.events)]))
        fake.rate_limit("chat.postMessage", 5)  # the answers in flight now wait out Retry-After: 5
        postgres.stop()
        print(f"{args.events} questions acknowledged, PostgreSQL stopped, chat.postMessage rate-limited (5 s)")
        jobs = [pool.submit(event, f"DDURING{n}") for n in range(args.events)]
        commands = [f"cmd{n}" for n in range(args.commands)]
        for name in commands:
            jobs.append(pool.submit(post, "command", lambda name=name: command(fake, url, QUESTION, name)[0]))
        for n in range(args.clicks):
            jobs.append(
                pool.submit(post, "click", lambda n=n: click(fake, url, HELPFUL, "a1", f"click{n}", user=f"U{n}"))
            )
        for job in jobs:
            job.result()
    acked_at = time.monotonic() - started

    channels = [f"DBEFORE{n}" for n in range(args.events)] + [f"DDURING{n}" for n in range(args.events)]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not _all_replied(fake, channels, commands):
        time.sleep(0.5)
    time.sleep(1.0)  # a duplicate would land now
    replies = Counter(
        c.body["channel"] for c in fake.calls_to("chat.postMessage") if not fake.refused(c) and "channel" in c.body
    )
    command_replies = Counter(
        c.method for c in fake.calls if c.method.startswith("response/cmd") and not fake.refused(c)
    )
    busy = sum(1 for c in fake.calls_to("chat.postMessage") if c.body.get("text") == BUSY)
    answered_in = time.monotonic() - started

    problems = 0
    print(f"\n== all requests sent and acknowledged {acked_at:.1f}s after the first ==")
    for kind, times in acks.items():
        ok = [t for t in times if t is not None and t < 3.0]
        slowest = max((t for t in times if t is not None), default=float("nan"))
        print(
            f"  {kind:8} acknowledged within 3 s: {len(ok)}/{len(times)} ({100 * len(ok) / max(1, len(times)):.0f}%), "
            f"slowest {slowest:.2f} s"
        )
        problems += len(times) - len(ok)
    print(f"  Slack retries needed: {retried['event']}")
    once = sum(1 for c in channels if replies[c] == 1) + sum(
        1 for c in commands if command_replies[f"response/{c}"] == 1
    )
    twice = sum(1 for c in channels if replies[c] > 1) + sum(
        1 for c in commands if command_replies[f"response/{c}"] > 1
    )
    never = len(channels) + len(commands) - once - twice
    print(
        f"  questions replied to exactly once: {once}/{len(channels) + len(commands)} (twice: {twice}, never: {never};"
        f" 'busy' replies: {busy}); all replied {answered_in:.1f}s after the first request"
    )
    problems += twice + never + retried["event"]
    print(
        f"command: .venv/bin/python bench/slack_acks.py --events {args.events} --commands {args.commands} "
        f"--clicks {args.clicks} --slow {args.slow}"
    )
    print("RESULT: " + ("PASS" if problems == 0 else f"FAIL ({problems} problems)"))
    return 1 if problems else 0


def _all_replied(fake: FakeSlack, channels: list[str], commands: list[str]) -> bool:
    posted = {c.body.get("channel") for c in fake.calls_to("chat.postMessage") if not fake.refused(c)}
    responded = {c.method for c in fake.calls if c.method.startswith("response/cmd") and not fake.refused(c)}
    return set(channels) <= posted and {f"response/{c}" for c in commands} <= responded


if __name__ == "__main__":
    sys.exit(main())
