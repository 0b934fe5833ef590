"""Slack HTTP mode under hostile load: forged, stale, replayed, malformed and oversized requests mixed
with real questions, N at a time, against `serve --http`'s server and the real bot (slack-bolt,
slack-sdk, the real answerer over the shipped knowledge) with the loopback FakeSlack as Slack.

Prints, per round: requests by kind and status, latency p50/p99, replies per channel (each valid
question must get exactly one, nothing else any), and the process's RSS before and after.

`--server` picks the HTTP server in front of the same guarded bolt app: `waitress` (what `serve --http`
runs), `gunicorn` (its arbiter and one gthread worker) or `wsgiref` (the stdlib's threaded server `serve
--http` ran before); each in a forked child that builds the bot, apart from the load generator and FakeSlack.

    .venv/bin/python bench/slack_load.py [--server waitress] [--requests 540] [--concurrency 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socketserver
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.http_server import GuardedSlackHandler, make_http_server  # noqa: E402
from bot.state.feedback import FeedbackStore  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from tests.slack.fakeslack import PROXY_ENV_VARS, FakeSlack  # noqa: E402
from tests.slack.traffic import KINDS, Request, make_traffic, replies_by_channel, send_all  # noqa: E402

SECRET = "load-secret"
QUESTIONS = [
    "What pillars do the AMP recommendations rest on?",
    "What are the five objectives of the 2012 plan?",
    "What did PCAST recommend in 2011?",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("waitress", "gunicorn", "wsgiref"), default="waitress")
    parser.add_argument("--requests", type=int, default=540, help="requests per round (all kinds together)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight at once")
    parser.add_argument("--rounds", type=int, default=2, help="rounds after a small warm-up")
    args = parser.parse_args()
    for name in PROXY_ENV_VARS:
        os.environ.pop(name, None)

    settings = load_settings(ROOT / "config.yaml")
    work = Path(tempfile.mkdtemp(prefix="policybot-load-"))
    failures = 0
    with FakeSlack() as fake:

        def build() -> App:  # in this process, or (gunicorn) in its worker after the fork
            embedder = SentenceTransformerEmbedder()
            build_index(settings.knowledge_dir, work / "index", embedder, settings.splitter)
            answerer = build_answerer(settings.model_copy(update={"index_dir": work / "index"}), embedder=embedder)
            client = WebClient(token=fake.bot_token, base_url=fake.api_url)
            store = FeedbackStore(work / "feedback.sqlite3")
            return build_app(settings.slack, answerer, client, store, signing_secret=SECRET, working_after=5.0)

        with _served(SERVERS[args.server], build) as (url, alive, server_rss):
            _round(fake, url, make_traffic(SECRET, QUESTIONS, 45, seed=0), 10, "warm-up", server_rss)
            warm = server_rss()
            for number in range(1, args.rounds + 1):
                traffic = make_traffic(SECRET, QUESTIONS, args.requests, seed=number)
                failures += _round(fake, url, traffic, args.concurrency, f"round {number} ({args.server})", server_rss)
            print(f"\nserver RSS after the warm-up {warm:.0f} MB, after the last round {server_rss():.0f} MB")
            print(f"server alive after the run: {alive()}")
            failures += 0 if alive() else 1
    print(
        f"command: .venv/bin/python bench/slack_load.py --server {args.server} --requests {args.requests} "
        f"--concurrency {args.concurrency} --rounds {args.rounds}"
    )
    print("RESULT: " + ("PASS" if failures == 0 else f"FAIL ({failures} problems)"))
    return 1 if failures else 0


Served = Iterator[tuple[str, Callable[[], bool], Callable[[], float]]]


def _waitress(build: Callable[[], App], port: int) -> None:
    make_http_server(build(), "127.0.0.1", port, SECRET).serve_forever()


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _wsgiref(build: Callable[[], App], port: int) -> None:
    guarded = GuardedSlackHandler(build(), SECRET)
    make_server("127.0.0.1", port, guarded, server_class=_ThreadingWSGIServer, handler_class=_Quiet).serve_forever()


def _gunicorn(build: Callable[[], App], port: int) -> None:
    """gunicorn's arbiter (it wants a main thread for its signals) with one gthread worker, which builds the bot."""
    from gunicorn.app.base import BaseApplication

    class Bot(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gthread", "threads": 16}
            for key, value in {**options, "timeout": 120, "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return GuardedSlackHandler(build(), SECRET)

    Bot().run()


@contextmanager
def _served(serve: Callable[[Callable[[], App], int], None], build: Callable[[], App]) -> Served:
    """Run `serve` in a forked child, so the server does not share a GIL with the load generator and FakeSlack."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(target=serve, args=(build, port), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}/slack/events"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the child builds the bot (model, index) before it listens
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            break  # bolt answered (404 for a GET): up
        except OSError:
            time.sleep(0.5)
    try:
        yield url, process.is_alive, lambda: _tree_rss_mb(process.pid or 0)
    finally:
        if process.pid:
            os.kill(process.pid, signal.SIGTERM)
        process.join(10)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (gunicorn's worker), in MB."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) == pid or int(fields.get("PPid", "0").strip()) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    return total


SERVERS = {"waitress": _waitress, "wsgiref": _wsgiref, "gunicorn": _gunicorn}


def _round(
    fake: FakeSlack, url: str, traffic: list[Request], concurrency: int, label: str, rss_mb: Callable[[], float]
) -> int:
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
    print(f"  latency p50 {tally.percentile(50) * 1000:.0f} ms, p99 {tally.percentile(99) * 1000:.0f} ms")
    print(f"  server RSS {before:.0f} MB -> {after:.0f} MB ({after - before:+.1f} MB)")
    return acted_on_bad + twice + missing + server_errors + len(tally.unexpected)


if __name__ == "__main__":
    sys.exit(main())
