"""Hostile and honest traffic for the Slack HTTP endpoint, shared by tests/test_slack_load.py and bench/slack_load.py.

`make_traffic` builds the requests (valid questions, forged and stale signatures, replays, malformed
and oversized bodies); `send_all` fires them N at a time; `Tally` says what came back and what was
answered. A valid question goes to its own DM channel `D<n>`; every other kind uses channels that
must never see a reply.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from slack_sdk.signature import SignatureVerifier

from tests.slack.fakeslack import FakeSlack, dm_event

KINDS = (
    "valid",
    "bad_signature",
    "unsigned",
    "stale_timestamp",
    "replay_same_request",  # the exact bytes and headers of a valid request, sent again
    "replay_same_event_id",  # the same event re-signed, as Slack's retries are (X-Slack-Retry-Num: 1)
    "malformed_json",
    "oversized_declared",  # Content-Length over the limit; the body is never sent
    "oversized_sent",  # 2 MB actually sent
)
EXPECTED = {  # status each kind must get; None: the server may also just close the connection
    "valid": {200},
    "bad_signature": {401},
    "unsigned": {401},
    "stale_timestamp": {401},
    "replay_same_request": {200},
    "replay_same_event_id": {200},
    "malformed_json": {400},
    "oversized_declared": {413},
    "oversized_sent": {413, None},
}
OVERSIZED = 2 * 1024 * 1024
_BIG_BODY = b'{"pad": "' + b"x" * OVERSIZED + b'"}'  # one shared copy, so the sender's memory stays flat


@dataclass(frozen=True)
class Request:
    kind: str
    body: bytes
    headers: dict[str, str]
    channel: str  # where a reply would go ("" for bodies with no event)
    declared_length: int | None = None  # send only headers claiming this length


@dataclass
class Tally:
    """Responses by kind and status, and transport errors (connection reset etc.)."""

    statuses: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds from sending to the answer, per request

    def percentile(self, p: float) -> float:
        """The p-th percentile (0-100) of the request latencies, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")

    def count(self, kind: str) -> int:
        return sum(n for (k, _), n in self.statuses.items() if k == kind)


def _signed(secret: str, body: bytes, ts: int, **extra: str) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body) or ""
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


def make_traffic(secret: str, questions: list[str], total: int, seed: int = 7) -> list[Request]:
    """`total` requests, about a ninth of each kind, shuffled; valid questions cycle through `questions`."""
    rng = random.Random(seed)
    now = int(time.time())
    per_kind = max(1, total // len(KINDS))
    requests: list[Request] = []
    big_headers = _signed(secret, _BIG_BODY, now)
    for n in range(per_kind):
        channel = f"D{n:05d}"
        event = dm_event(questions[n % len(questions)], channel=channel)
        body = json.dumps(event).encode()
        original = Request("valid", body, _signed(secret, body, now), channel)
        requests.append(original)
        requests.append(Request("replay_same_request", original.body, dict(original.headers), channel))
        retry = _signed(secret, body, now + 1) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        requests.append(Request("replay_same_event_id", body, retry, channel))
        forged = json.dumps(dm_event("forged: " + questions[0], channel=f"DFORGED{n}")).encode()
        requests.append(Request("bad_signature", forged, _signed("not-the-secret", forged, now), f"DFORGED{n}"))
        requests.append(Request("unsigned", forged, {"Content-Type": "application/json"}, f"DFORGED{n}"))
        stale = json.dumps(dm_event("stale: " + questions[0], channel=f"DSTALE{n}")).encode()
        requests.append(Request("stale_timestamp", stale, _signed(secret, stale, now - 600), f"DSTALE{n}"))
        broken = b'{"type": "event_callback", "event": {"channel": "DBROKEN%d", "text": ' % n
        requests.append(Request("malformed_json", broken, _signed(secret, broken, now), f"DBROKEN{n}"))
        requests.append(Request("oversized_declared", b"", _signed(secret, b"", now), "", declared_length=OVERSIZED))
        requests.append(Request("oversized_sent", _BIG_BODY, big_headers, ""))
    rng.shuffle(requests)
    return requests


def send(url: str, request: Request, timeout: float = 10.0) -> tuple[int | None, str]:
    """POST one request; (its status, "") or (None, the error) when the connection failed instead."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        length = request.declared_length if request.declared_length is not None else len(request.body)
        conn.putrequest("POST", parts.path)
        for name, value in {**request.headers, "Content-Length": str(length)}.items():
            conn.putheader(name, value)
        conn.endheaders()
        if request.declared_length is None:
            conn.send(request.body)
        response = conn.getresponse()
        response.read()
        return response.status, ""
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        return None, repr(exc)
    finally:
        conn.close()


def send_all(url: str, requests: list[Request], concurrency: int) -> Tally:
    """Send every request, `concurrency` at a time, and tally the statuses."""
    tally = Tally()
    started = time.perf_counter()

    def timed(request: Request) -> tuple[int | None, str, float]:
        sent = time.perf_counter()
        status, error = send(url, request)
        return status, error, time.perf_counter() - sent

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for request, (status, error, seconds) in zip(requests, pool.map(timed, requests), strict=True):
            tally.statuses[(request.kind, status)] += 1
            tally.latencies.append(seconds)
            if status not in EXPECTED[request.kind]:
                tally.unexpected.append(f"{request.kind}: {status} {error}".strip())
    tally.seconds = time.perf_counter() - started
    return tally


def replies_by_channel(fake: FakeSlack) -> Counter[str]:
    """How many messages the bot posted to each channel."""
    return Counter(str(call.body.get("channel")) for call in fake.calls_to("chat.postMessage"))


def rss_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
