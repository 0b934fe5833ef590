"""Slack HTTP mode under hostile load: forged, stale, replayed, malformed and oversized requests mixed
with real questions, N at a time, against `serve --http`'s server and the real bot (slack-bolt,
slack-sdk, the real answerer over the shipped knowledge) with the loopback FakeSlack as Slack.

Prints, per round: requests by kind and status, replies per channel (each valid question must get
exactly one, nothing else any), and the process's RSS before and after.

    .venv/bin/python bench/slack_load.py [--requests 540] [--concurrency 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.http_server import make_http_server  # noqa: E402
from bot.state.feedback import FeedbackStore  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack  # noqa: E402
from tests.slack.traffic import KINDS, Request, make_traffic, replies_by_channel, rss_mb, send_all  # noqa: E402

SECRET = "load-secret"
QUESTIONS = [
    "What pillars do the AMP recommendations rest on?",
    "What are the five objectives of the 2012 plan?",
    "What did PCAST recommend in 2011?",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=540, help="requests per round (all kinds together)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight at once")
    parser.add_argument("--rounds", type=int, default=2, help="rounds after a small warm-up")
    args = parser.parse_args()
    for name in PROXY_ENV_VARS:
        os.environ.pop(name, None)

    settings = load_settings(ROOT / "config.yaml")
    work = Path(tempfile.mkdtemp(prefix="policybot-load-"))
    embedder = SentenceTransformerEmbedder()
    build_index(settings.knowledge_dir, work / "index", embedder, settings.splitter)
    answerer = build_answerer(settings.model_copy(update={"index_dir": work / "index"}), embedder=embedder)

    failures = 0
    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        store = FeedbackStore(work / "feedback.sqlite3")
        app = build_app(settings.slack, answerer, client, store, signing_secret=SECRET, working_after=5.0)
        server = make_http_server(app, "127.0.0.1", 0, SECRET)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        try:
            _round(fake, url, make_traffic(SECRET, QUESTIONS, 45, seed=0), 10, "warm-up")
            warm = rss_mb()
            for number in range(1, args.rounds + 1):
                traffic = make_traffic(SECRET, QUESTIONS, args.requests, seed=number)
                failures += _round(fake, url, traffic, args.concurrency, f"round {number}")
            print(f"\nRSS after the warm-up {warm:.0f} MB, after the last round {rss_mb():.0f} MB")
            print(f"server thread alive after the run: {thread.is_alive()}")
            failures += 0 if thread.is_alive() else 1
        finally:
            server.shutdown()
            server.server_close()
    print(
        f"command: .venv/bin/python bench/slack_load.py --requests {args.requests} "
        f"--concurrency {args.concurrency} --rounds {args.rounds}"
    )
    print("RESULT: " + ("PASS" if failures == 0 else f"FAIL ({failures} problems)"))
    return 1 if failures else 0


def _round(fake: FakeSlack, url: str, traffic: list[Request], concurrency: int, label: str) -> int:
    """Send one batch, wait for the answers, print the figures; the number of problems found."""
    fake.calls.clear()
    before = rss_mb()
    started = time.perf_counter()
    tally = send_all(url, traffic, concurrency)
    valid = {r.channel for r in traffic if r.kind == "valid"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not valid <= set(replies_by_channel(fake)):
        time.sleep(0.1)
    answered_in = time.perf_counter() - started
    time.sleep(1.0)  # late duplicates would land now
    replies = replies_by_channel(fake)
    after = rss_mb()
    acted_on_bad = sum(n for channel, n in replies.items() if channel not in valid)
    twice = sum(1 for channel in valid if replies[channel] > 1)
    missing = sum(1 for channel in valid if replies[channel] == 0)
    server_errors = sum(n for (_, status), n in tally.statuses.items() if status is not None and status >= 500)
    print(f"\n== {label}: {len(traffic)} requests, {concurrency} at once, sent in {tally.seconds:.1f}s ==")
    for kind in KINDS:
        statuses = ", ".join(
            f"{status or 'closed'}×{n}" for (k, status), n in sorted(tally.statuses.items(), key=str) if k == kind
        )
        print(f"  {kind:22} {tally.count(kind):4}  {statuses}")
    print(
        f"  valid questions answered exactly once: {len(valid) - twice - missing}/{len(valid)} "
        f"(twice: {twice}, never: {missing}); all answered {answered_in:.1f}s after the first request"
    )
    print(f"  forged/stale/replayed/malformed/oversized requests acted on: {acted_on_bad}")
    print(f"  5xx responses: {server_errors}; unexpected statuses: {len(tally.unexpected)} {tally.unexpected[:5]}")
    print(f"  RSS {before:.0f} MB -> {after:.0f} MB ({after - before:+.1f} MB)")
    return acted_on_bad + twice + missing + server_errors + len(tally.unexpected)


if __name__ == "__main__":
    sys.exit(main())
