"""Slack's retries of an event, over Socket Mode or HTTP and even across a restart, are answered once."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from slack_bolt import App

from tests.slack.fakeslack import FakeSlack, app_mention_event, signed_post
from tests.slack.replies import PILLARS, SECRET, MakeApp, posts_after_sentinel, posts_after_sentinel_http

pytestmark = pytest.mark.slow


def test_retried_event_is_answered_once(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    body = app_mention_event(f"<@UBOT> {PILLARS}", event_id="EvRETRY1")
    first = fake_slack.send_envelope("events_api", body)
    again = fake_slack.send_envelope("events_api", body, retry_attempt=1, retry_reason="timeout")
    fake_slack.wait_for_ack(first)
    fake_slack.wait_for_ack(again)
    assert len(posts_after_sentinel(fake_slack, expected=1)) == 1


def test_http_retry_is_answered_once_even_after_a_restart(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    raw = json.dumps(app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000700", event_id="EvRETRY2")).encode()
    url = bolt_http(make_app())
    assert signed_post(url, raw, SECRET)[0] == 200
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    status, headers, _ = signed_post(url, raw, SECRET, retry_num=1)
    assert status == 200 and headers.get("x-slack-no-retry") == "1"
    restarted = bolt_http(make_app())  # a fresh process: only the feedback store remembers the answer
    assert signed_post(restarted, raw, SECRET, retry_num=2)[0] == 200
    assert len(posts_after_sentinel_http(fake_slack, restarted, expected=1)) == 1
