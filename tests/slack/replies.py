"""The bot's Slack replies as a user reads them, and the questions and signing secret the app tests use."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from slack_bolt import App

from tests.slack.fakeslack import Call, FakeSlack, dm_event, signed_post

SECRET = "test-signing-secret"
PILLARS = "What pillars do the AMP recommendations rest on?"
OBJECTIVES = "What are the five objectives of the 2012 National Strategic Plan for Advanced Manufacturing?"
MakeApp = Callable[..., App]


def text_of(call: Call) -> str:
    """Everything a reader sees in a posted message."""
    parts = [str(call.body.get("text", ""))]
    for block in call.body.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [str(e.get("text", "")) for e in block.get("elements", [])]
    return "\n".join(parts)


def reading_of(post: Call) -> str | None:
    """The 'Reading this as' line of a posted answer (how a follow-up was read), or None."""
    notes = [e["text"] for b in post.body["blocks"] if b["type"] == "context" for e in b["elements"]]
    return next((n for n in notes if n.startswith("Reading this as: ")), None)


def answer_of(post: Call) -> str:
    """The answer's own section of a posted answer, without the notes around it."""
    return next(b["text"]["text"] for b in post.body["blocks"] if b["type"] == "section")


def buttons(call: Call) -> dict[str, str]:
    """action_id -> value of the message's buttons."""
    return {
        e["action_id"]: e["value"] for b in call.body.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    }


def posts_after_sentinel(fake: FakeSlack, expected: int) -> list[Call]:
    """Send a DM that must be answered, wait for it, and return the messages posted before it."""
    fake.send_envelope("events_api", dm_event("sentinel: " + PILLARS, channel="DSENTINEL"))
    calls = fake.wait_for_call("chat.postMessage", count=expected + 1, timeout=5)
    time.sleep(0.2)  # anything still in flight would have landed by now
    calls = fake.calls_to("chat.postMessage")
    return [c for c in calls if c.body["channel"] != "DSENTINEL"]


def posts_after_sentinel_http(fake: FakeSlack, url: str, expected: int) -> list[Call]:
    """`posts_after_sentinel` for an app served over HTTP at `url`."""
    signed_post(url, json.dumps(dm_event("sentinel: " + PILLARS, channel="DSENTINEL")).encode(), SECRET)
    fake.wait_for_call("chat.postMessage", count=expected + 1, timeout=5)
    time.sleep(0.2)
    return [c for c in fake.calls_to("chat.postMessage") if c.body["channel"] != "DSENTINEL"]
