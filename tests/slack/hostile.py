"""Malformed requests for the Slack HTTP endpoint, sent over a raw socket so that anything can be sent.

`raw_post` sends exact header bytes and a body that may be shorter than its Content-Length;
`fuzzed_request` draws one malformed request (odd timestamps, signatures, lengths, bodies and
content types) from a seeded `random.Random`. `sign` is Slack's scheme over raw bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.slack.fakeslack import dm_event

EVENT = json.dumps(dm_event("fuzz: what pillars?", channel="DFUZZ")).encode()
ODD_TIMESTAMPS = ["abc", "1.5", "", " ", "-1", "+1", "1e9", "0x1F", "1_700_000_000", "９", "9" * 5000, "\x00", "١٢٣"]
ODD_LENGTHS = ["abc", "-1", "1.5", "", "99999999999", "1" * 5000, "0x10"]
BODIES = [
    b"",
    b"\xff\xfe\x00garbage",  # not UTF-8
    "é".encode("latin-1"),
    EVENT[:40],  # truncated JSON
    b"[]",
    b"7",
    b"null",
    b'{"type": "event_callback", "event": 5}',
    b"payload=%7B",
    b"payload=%5B%5D",
    b"payload=" + b"%ff" * 4,
    EVENT,  # a real event: it may be sent only unsigned or wrongly signed
]
CONTENT_TYPES = [b"application/json", b"application/x-www-form-urlencoded", b"text/plain", b"\xff/\xfe", b""]


@dataclass(frozen=True)
class Raw:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    hold_open: bool = False  # keep the connection open after a short body, as a stalled client does


def sign(secret: str, timestamp: bytes, body: bytes) -> bytes:
    """Slack's signature, `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, over the raw bytes."""
    return b"v0=" + hmac.new(secret.encode(), b"v0:" + timestamp + b":" + body, hashlib.sha256).hexdigest().encode()


def raw_post(url: str, request: Raw, timeout: float = 5.0) -> int | None:
    """POST `request` byte for byte; its status, or None when no answer came within `timeout` seconds."""
    parts = urlsplit(url)
    head = [b"POST " + parts.path.encode() + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    head += [name + b": " + value for name, value in request.headers]
    reply = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as conn:
        try:
            conn.sendall(b"\r\n".join(head) + b"\r\n\r\n" + request.body)
            if not request.hold_open:
                conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(4096):
                reply += chunk
        except OSError:  # timed out, or reset by the server
            pass
    fields = reply.split(b" ", 2)
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def _text(value: str) -> bytes:
    return value.encode("latin-1") if value.isascii() or max(value) <= "\xff" else value.encode()


def fuzzed_request(rng: random.Random, secret: str) -> Raw:
    """One request with at least one malformed part; a well-formed event is never signed correctly."""
    body = rng.choice([*BODIES, rng.randbytes(rng.randrange(1, 80))])
    now = str(int(time.time())).encode()
    timestamp = rng.choice([_text(rng.choice(ODD_TIMESTAMPS)), now, str(int(time.time()) - 600).encode(), None])
    odd_timestamp = timestamp is not None and not timestamp.isdigit()
    signature_kinds = ["correct", "none", "empty", "wrong", "upper", "non-ascii", "random", "twice"]
    kind = rng.choice(signature_kinds)
    if kind == "correct" and body == EVENT and not odd_timestamp:
        kind = "wrong"
    correct = sign(secret, timestamp or b"", body)
    signature = {
        "correct": correct,
        "none": None,
        "empty": b"",
        "wrong": b"v0=" + rng.randbytes(32).hex().encode(),
        "upper": correct.upper(),
        "non-ascii": "v0=é".encode("latin-1"),
        "random": rng.randbytes(rng.randrange(1, 40)).replace(b"\r", b"").replace(b"\n", b""),
        "twice": correct,
    }[kind]
    headers: list[tuple[bytes, bytes]] = [(b"Content-Type", rng.choice(CONTENT_TYPES))]
    if timestamp is not None:
        headers.append((b"X-Slack-Request-Timestamp", timestamp))
    if signature is not None:
        headers.append((b"X-Slack-Signature", signature))
    if kind == "twice":
        headers.append((b"X-Slack-Signature", correct))
    if rng.random() < 0.2:
        headers.append((b"X-Slack-Retry-Num", rng.choice([b"abc", b"-1", b"1.5", b"", b"1"])))
    length = rng.random()
    if length < 0.5:
        headers.append((b"Content-Length", str(len(body)).encode()))
    elif length < 0.75:
        headers.append((b"Content-Length", str(len(body) + rng.randrange(1, 50)).encode()))
        return Raw(headers, body, hold_open=rng.random() < 0.2)
    elif length < 0.95:
        headers.append((b"Content-Length", _text(rng.choice(ODD_LENGTHS))))
    return Raw(headers, body)
