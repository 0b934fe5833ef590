"""Slack latency: time from an event reaching the bot to its chat.postMessage arriving at the stand-in.

Runs the real bot (slack-bolt, slack-sdk, the real answerer over the shipped knowledge) against the
loopback FakeSlack from the tests, warm, over the evaluation questions, in Socket Mode and HTTP
mode; then sends 20 questions at once in HTTP mode and checks each is answered exactly once.

    .venv/bin/python bench/slack_latency.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt.adapter.socket_mode import SocketModeHandler  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bot.answering.evaluation import load_eval_set  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.http_server import make_http_server  # noqa: E402
from bot.state.feedback import FeedbackStore  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from tests.slack.fakeslack import PROXY_ENV_VARS, Call, FakeSlack, Reply, dm_event, signed_post  # noqa: E402

SECRET = "bench-secret"


class TimedFakeSlack(FakeSlack):
    """FakeSlack that notes when each chat.postMessage arrives, by channel."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, list[float]] = {}

    def _handle_http(self, path: str, call: Call) -> Reply:
        if call.method == "chat.postMessage":
            self.arrived.setdefault(str(call.body.get("channel")), []).append(time.perf_counter())
        return super()._handle_http(path, call)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wait_for(fake: TimedFakeSlack, channel: str, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fake.arrived.get(channel):
            return fake.arrived[channel][0]
        time.sleep(0.0005)
    raise SystemExit(f"no reply in {channel} within {timeout}s")


def run_sequential(send: Any, fake: TimedFakeSlack, questions: list[str], rounds: int, tag: str) -> list[float]:
    latencies = []
    for r in range(-1, rounds):  # round -1 warms up and is not counted
        for i, question in enumerate(questions):
            channel = f"D{tag}{r + 1}x{i}"
            started = time.perf_counter()
            send(dm_event(question, channel=channel))
            arrived = wait_for(fake, channel)
            if r >= 0:
                latencies.append((arrived - started) * 1000)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the evaluation questions")
    parser.add_argument("--concurrent", type=int, default=20, help="questions sent at once in HTTP mode")
    args = parser.parse_args()
    for name in [*PROXY_ENV_VARS, *[n for n in os.environ if n.startswith("SLACK_")]]:
        os.environ.pop(name, None)

    questions = [case.question for case in load_eval_set(ROOT / "tests" / "data" / "eval.yaml")]
    settings = load_settings(ROOT / "config.yaml")
    embedder = SentenceTransformerEmbedder(settings.model)
    tmp = Path(tempfile.mkdtemp(prefix="policybot-bench-"))
    build_index(settings.knowledge_dir, tmp / "index", embedder, settings.splitter)
    answerer = build_answerer(settings.model_copy(update={"index_dir": tmp / "index"}), embedder=embedder)
    config = settings.slack.model_copy(update={"feedback_db": tmp / "feedback.sqlite3"})
    results: dict[str, Any] = {"questions": len(questions), "rounds": args.rounds}

    with TimedFakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        app = build_app(config, answerer, client, FeedbackStore(config.feedback_db), signing_secret=SECRET)

        handler = SocketModeHandler(app, app_token=fake.app_token)
        try:
            handler.client.connect()
            socket_ms = run_sequential(
                lambda body: fake.send_envelope("events_api", body), fake, questions, args.rounds, "s"
            )
        finally:
            handler.client.auto_reconnect_enabled = False
            fake.disconnect_clients()
            handler.client.close()

        server = make_http_server(app, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        try:
            http_ms = run_sequential(
                lambda body: signed_post(url, json.dumps(body).encode(), SECRET), fake, questions, args.rounds, "h"
            )
            burst = [f"DC{i}" for i in range(args.concurrent)]
            bodies = [
                json.dumps(dm_event(questions[i % len(questions)], channel=c)).encode() for i, c in enumerate(burst)
            ]
            starts: dict[str, float] = {}
            statuses: list[int] = []

            def post(channel: str, body: bytes) -> None:
                starts[channel] = time.perf_counter()
                statuses.append(signed_post(url, body, SECRET)[0])

            senders = [threading.Thread(target=post, args=(c, b)) for c, b in zip(burst, bodies, strict=True)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            burst_ms = [(wait_for(fake, c) - starts[c]) * 1000 for c in burst]
            time.sleep(0.5)  # let any duplicate land before counting
            replies = [len(fake.arrived.get(c, [])) for c in burst]
        finally:
            server.shutdown()
            server.server_close()

    for name, values in (("socket_mode", socket_ms), ("http", http_ms), ("http_burst", burst_ms)):
        results[name] = {
            "n": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "max_ms": round(max(values), 1),
        }
    results["http_burst"] |= {
        "sent": args.concurrent,
        "acked_200": statuses.count(200),
        "answered": sum(1 for n in replies if n >= 1),
        "answered_twice": sum(1 for n in replies if n > 1),
    }
    print(json.dumps(results, indent=2))
    print(f"reproduce: .venv/bin/python bench/slack_latency.py --rounds {args.rounds} --concurrent {args.concurrent}")
    ok = results["http_burst"]["answered"] == args.concurrent and results["http_burst"]["answered_twice"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
