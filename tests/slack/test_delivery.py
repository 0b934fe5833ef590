"""Every reply is checked: Slack's refusals are logged with its error code, 429s and 5xx are retried, and
Share keeps the private copy unless the shared post went through."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from slack_bolt import App

from bot.slack.blocks import APOLOGY, SHARE
from bot.slack.listeners.actions import NOT_SHARED
from bot.slack.listeners.commands import COMMAND
from tests.slack.fakeslack import (
    FORM,
    FakeSlack,
    block_action_payload,
    dm_event,
    encode_form,
    encode_payload,
    signed_post,
    slash_command_form,
)
from tests.slack.replies import PILLARS, SECRET, MakeApp, buttons, text_of

pytestmark = pytest.mark.slow


def ask_policy(fake: FakeSlack, url: str, name: str) -> None:
    form = slash_command_form(COMMAND, PILLARS, user_id="U5", response_url=fake.response_url(name))
    assert signed_post(url, encode_form(form), SECRET, content_type=FORM)[0] == 200


def test_a_refused_slash_command_reply_is_logged_with_slacks_error(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str], caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.script("response/gone", 404, body={"ok": False, "error": "expired_url"})
    with caplog.at_level(logging.WARNING):
        ask_policy(fake_slack, bolt_http(make_app()), "gone")
        fake_slack.wait_for_call("response/gone", timeout=10)
        lines = _wait_for_log(caplog, "expired_url")
    assert any("/policy reply" in line and "HTTP 404" in line for line in lines)


def test_a_slash_command_reply_is_retried_after_a_server_error(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    fake_slack.script("response/flaky", 503, body={"ok": False, "error": "service_unavailable"})
    ask_policy(fake_slack, bolt_http(make_app()), "flaky")
    failed, delivered = fake_slack.wait_for_call("response/flaky", count=2, timeout=10)
    assert fake_slack.refused(failed) and not fake_slack.refused(delivered)
    assert "three pillars" in text_of(delivered)


def test_an_answer_is_retried_after_a_server_error_not_replaced_by_an_apology(
    fake_slack: FakeSlack, socket_app: MakeApp
) -> None:
    socket_app()
    fake_slack.script("chat.postMessage", 500, body={"ok": False, "error": "internal_error"})
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    failed, delivered = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10)
    assert failed.body == delivered.body and "three pillars" in text_of(delivered)
    assert all(c.body.get("text") != APOLOGY for c in fake_slack.calls_to("chat.postMessage"))


def test_share_keeps_the_private_copy_when_the_shared_post_fails(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    ask_policy(fake_slack, url, "cmd")
    [reply] = fake_slack.wait_for_call("response/cmd", timeout=10)
    fake_slack.script("response/share", 403, body={"ok": False, "error": "not_in_channel"})
    click = block_action_payload(SHARE, buttons(reply)[SHARE], user="U5", response_url=fake_slack.response_url("share"))
    assert signed_post(url, encode_payload(click), SECRET, content_type=FORM)[0] == 200
    failed, told = fake_slack.wait_for_call("response/share", count=2, timeout=10)
    assert failed.body["response_type"] == "in_channel"
    assert told.body == {"response_type": "ephemeral", "replace_original": False, "text": NOT_SHARED}
    assert not any(c.body.get("delete_original") for c in fake_slack.calls_to("response/share"))


def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 5.0) -> list[str]:
    """The log lines mentioning `text`, once there is one (the reply is sent from another thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if text in r.getMessage()]
        if lines:
            return lines
        time.sleep(0.05)
    return []
