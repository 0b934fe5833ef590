"""Slack Connect: nothing from an externally shared channel or another organisation's user is answered,
unless `slack.answer_external` says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.blocks import HELPFUL
from bot.slack.external import CHANNEL_INFO_SECONDS, EXTERNAL_OFF, SharedChannels
from tests.slack.asking import click, command
from tests.slack.fakeslack import FakeSlack, app_mention_event, signed_post
from tests.slack.replies import PILLARS, SECRET, MakeApp, posts_after_sentinel_http, text_of

pytestmark = pytest.mark.slow


def shared_channel_mention() -> dict[str, Any]:
    body = app_mention_event(f"<@UBOT> {PILLARS}", channel="CSHARED")
    body["is_ext_shared_channel"] = True
    return body


def partner_mention() -> dict[str, Any]:
    body = app_mention_event(f"<@UBOT> {PILLARS}", channel="CPARTNER", user="UPARTNER")
    body["event"]["user_team"] = "TPARTNER"
    return body


def test_slack_connect_is_not_answered_by_default(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    for body in (shared_channel_mention(), partner_mention()):
        assert signed_post(url, json.dumps(body).encode(), SECRET)[0] == 200
    status, _, reply = command(fake_slack, url, PILLARS, "cmd", extra={"is_ext_shared_channel": "true"})
    assert status == 200 and json.loads(reply)["text"] == EXTERNAL_OFF
    assert click(fake_slack, url, HELPFUL, "a1", team="TPARTNER") == 200
    assert posts_after_sentinel_http(fake_slack, url, expected=0) == []
    assert fake_slack.calls_to("response/cmd") == [] and fake_slack.calls_to("response/click") == []


def test_slack_connect_is_answered_when_enabled(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app(answer_external=True))
    for body in (shared_channel_mention(), partner_mention()):
        assert signed_post(url, json.dumps(body).encode(), SECRET)[0] == 200
    posts = posts_after_sentinel_http(fake_slack, url, expected=2)
    assert sorted(c.body["channel"] for c in posts) == ["CPARTNER", "CSHARED"]


def mention_in(channel: str, ts: str) -> bytes:
    """A mention whose request says nothing of Slack Connect (`is_ext_shared_channel` false, a local user)."""
    return json.dumps(app_mention_event(f"<@UBOT> {PILLARS}", channel=channel, ts=ts)).encode()


def test_a_channel_slack_says_is_shared_externally_is_not_answered(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    fake_slack.share_externally("CCONNECT")
    url = bolt_http(make_app())
    for ts in ("1700000000.000100", "1700000000.000200"):
        assert signed_post(url, mention_in("CCONNECT", ts), SECRET)[0] == 200
    assert signed_post(url, mention_in("CINTERNAL", "1700000000.000300"), SECRET)[0] == 200
    assert [c.body["channel"] for c in posts_after_sentinel_http(fake_slack, url, expected=1)] == ["CINTERNAL"]
    status, _, body = command(fake_slack, url, PILLARS, "cmd", channel_id="CCONNECT")
    assert (status, body) == (200, b"")  # acknowledged at once; the channel is looked up in the answer pool
    [reply] = fake_slack.wait_for_call("response/cmd", timeout=5)
    assert reply.body["text"] == EXTERNAL_OFF and "three pillars" not in text_of(reply)
    asked = [c.body["channel"] for c in fake_slack.calls_to("conversations.info")]
    assert sorted(asked) == ["CCONNECT", "CINTERNAL"]  # once a channel: two mentions and a command, one lookup


def test_a_shared_channel_is_not_looked_up_when_answering_it_is_allowed(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    fake_slack.share_externally("CCONNECT")
    url = bolt_http(make_app(answer_external=True))
    assert signed_post(url, mention_in("CCONNECT", "1700000000.000100"), SECRET)[0] == 200
    assert [c.body["channel"] for c in posts_after_sentinel_http(fake_slack, url, expected=1)] == ["CCONNECT"]
    assert fake_slack.calls_to("conversations.info") == []


def test_what_slack_said_of_a_channel_is_asked_again_after_an_hour(
    fake_slack: FakeSlack, web_client: WebClient
) -> None:
    now = [0.0]
    shared = SharedChannels(clock=lambda: now[0])
    assert not shared.external(web_client, "CLATER")
    fake_slack.share_externally("CLATER")  # shared with a partner afterwards
    now[0] = CHANNEL_INFO_SECONDS - 1
    assert not shared.external(web_client, "CLATER")  # what Slack said is kept for the hour
    now[0] = CHANNEL_INFO_SECONDS + 1
    assert shared.external(web_client, "CLATER")
    assert len(fake_slack.calls_to("conversations.info")) == 2


def test_a_channel_slack_could_not_describe_is_asked_about_again(fake_slack: FakeSlack, web_client: WebClient) -> None:
    shared = SharedChannels()
    fake_slack.set_channel("CODD", "missing")
    assert not shared.external(web_client, "CODD")  # Slack could not say: the request's own fields decided
    del fake_slack.channels["CODD"]
    fake_slack.share_externally("CODD")
    assert shared.external(web_client, "CODD")
