"""The slash command: answered privately, shared on request, escaped, and refused where the bot may not answer."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from slack_bolt import App

from bot.slack.blocks import HELPFUL, NOT_HELPFUL, SHARE
from tests.slack.asking import click, command
from tests.slack.fakeslack import FakeSlack
from tests.slack.replies import PILLARS, MakeApp, buttons, text_of

pytestmark = pytest.mark.slow


def test_slash_command_answers_privately_and_share_posts_it_in_channel(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    started = time.monotonic()
    status, _, body = command(fake_slack, url, PILLARS, "cmd", user_id="U5")
    assert (status, body) == (200, b"") and time.monotonic() - started < 3
    [reply] = fake_slack.wait_for_call("response/cmd", timeout=5)
    assert reply.body["response_type"] == "ephemeral" and "three pillars" in text_of(reply)
    assert "<@U5> asked: What pillars" in text_of(reply)
    assert fake_slack.calls_to("chat.postMessage") == []
    answer_id = buttons(reply)[SHARE]

    assert click(fake_slack, url, SHARE, answer_id, "share", user="U5") == 200
    [shared, deleted] = fake_slack.wait_for_call("response/share", count=2, timeout=5)
    assert shared.body["response_type"] == "in_channel" and "three pillars" in text_of(shared)
    assert "<@U5> asked: What pillars" in text_of(shared)
    assert set(buttons(shared)) == {HELPFUL, NOT_HELPFUL}
    assert deleted.body["delete_original"] is True  # the private copy goes away


def test_slash_command_in_a_disallowed_channel_says_so(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app(allowed_channels=["CALLOWED"]))
    command(fake_slack, url, PILLARS, channel_id="COTHER")
    [reply] = fake_slack.wait_for_call("response/r1", timeout=5)
    assert "does not answer in this channel" in reply.body["text"] and "three pillars" not in text_of(reply)


def test_channel_ping_in_a_question_is_escaped(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    assert command(fake_slack, url, f"<!channel> <@U2> a<b & {PILLARS}")[0] == 200
    [reply] = fake_slack.wait_for_call("response/r1", timeout=5)
    shown = text_of(reply)
    assert "<!channel>" not in shown and "<@U2>" not in shown
    assert "asked: @channel @U2 a&lt;b &amp; What pillars" in shown
