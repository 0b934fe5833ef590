"""What `build_app` wires in: requests are checked against the signing secret, and a 429 is waited out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from slack_bolt import App

from tests.slack.fakeslack import FakeSlack, app_mention_event, dm_event, signed_post
from tests.slack.replies import PILLARS, SECRET, MakeApp, text_of

pytestmark = pytest.mark.slow


def test_bad_signature_or_stale_timestamp_gets_401_and_no_reply(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    raw = json.dumps(app_mention_event(f"<@UBOT> {PILLARS}")).encode()
    assert signed_post(url, raw, "not-the-secret")[0] == 401
    assert signed_post(url, raw, SECRET, timestamp=int(time.time()) - 600)[0] == 401
    time.sleep(0.3)
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.calls_to("reactions.add") == []


def test_rate_limited_reply_is_retried_and_arrives(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.script("chat.postMessage", status=429, headers={"Retry-After": "1"})
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [limited, delivered] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert limited.body == delivered.body and "three pillars" in text_of(delivered)
