"""FakeSlack speaks Slack's real protocols: proved with unmocked slack_sdk and slack-bolt code."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import make_server

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond, Say
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.slack.fakeslack import (
    FORM,
    FakeSlack,
    app_mention_event,
    block_action_payload,
    deliver_event,
    dm_event,
    encode_form,
    encode_payload,
    new_trigger_id,
    signed_post,
    slash_command_form,
    thread_message_event,
    view_submission_payload,
)
from tests.slack.fixtures import QuietHandler, WsgiServers

SECRET = "test-signing-secret"
ConnectSocket = Callable[..., SocketModeHandler]


def build_app(fake: FakeSlack) -> App:
    """A small real App: answers mentions and DMs in thread, and handles a command, a button and a modal."""
    app = App(client=WebClient(token=fake.bot_token, base_url=fake.api_url), signing_secret=SECRET)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say, request: BoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num", ["-"])[0]
        say(text=f"pong: {event['text']} (retry {retry})", thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    def on_message(event: dict[str, Any], say: Say) -> None:
        say(text=f"dm: {event['text']}", thread_ts=event.get("thread_ts"))

    @app.command("/policybot")
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack(f"Looking up {command['text']}...")
        respond(text=f"answer for {command['text']}", response_type="ephemeral")

    @app.action("helpful")
    def on_button(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(text=f"thanks: {action['value']}", replace_original=False)

    @app.view("feedback")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        comment = view["state"]["values"]["comment"]["text"]["value"]
        ack(response_action="errors", errors={"comment": f"got {comment} for {view['private_metadata']}"})

    return app


# -- Web API ---------------------------------------------------------------------------------


def test_auth_test_reports_the_bot_identity(web_client: WebClient) -> None:
    response = web_client.auth_test()
    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("UBOT", "BBOT", "T1")


def test_invalid_token_raises_slack_api_error(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-wrong", base_url=fake_slack.api_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


def test_connections_open_needs_the_app_token(fake_slack: FakeSlack, web_client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        web_client.apps_connections_open(app_token=fake_slack.bot_token)
    assert raised.value.response["error"] == "not_allowed_token_type"
    url = web_client.apps_connections_open(app_token=fake_slack.app_token)["url"]
    assert url.startswith(f"ws://127.0.0.1:{fake_slack.ws_port}/link/?ticket=")


def test_post_message_is_recorded_with_its_blocks(fake_slack: FakeSlack, web_client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*PTO*: 20 days"}}]
    first = web_client.chat_postMessage(channel="C1", text="PTO: 20 days", blocks=blocks)
    second = web_client.chat_postMessage(channel="C1", text="again")
    [call, _] = fake_slack.wait_for_call("chat.postMessage", count=2)
    assert call.body["blocks"] == blocks
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert first["channel"] == "C1" and first["ts"] != second["ts"]


def test_form_encoded_calls_are_parsed(fake_slack: FakeSlack, web_client: WebClient) -> None:
    web_client.reactions_add(channel="C1", timestamp="1.000001", name="eyes")
    [call] = fake_slack.calls_to("reactions.add")
    assert call.body == {"channel": "C1", "timestamp": "1.000001", "name": "eyes"}


def test_oversized_payloads_are_rejected(web_client: WebClient) -> None:
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    too_many = [{"type": "divider"}] * 51
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "x", "blocks": long_section}, "invalid_blocks"),
        ({"text": "x", "blocks": too_many}, "invalid_blocks"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as raised:
            web_client.chat_postMessage(channel="C1", **kwargs)
        assert raised.value.response["error"] == error


def test_unknown_method_is_reported(web_client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        web_client.api_call("chat.postMesage")
    assert raised.value.response["error"] == "unknown_method"


def test_rate_limited_call_succeeds_with_retry_handler(fake_slack: FakeSlack, web_client: WebClient) -> None:
    fake_slack.script("chat.postMessage", status=429, headers={"Retry-After": "1"})
    with pytest.raises(SlackApiError) as raised:
        web_client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    with pytest.raises(SlackApiError) as again:  # not waiting out Retry-After gets another 429
        web_client.chat_postMessage(channel="C1", text="hi")
    assert again.value.response.status_code == 429

    time.sleep(1.0)
    fake_slack.script("chat.postMessage", status=429, headers={"Retry-After": "1"})
    web_client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    assert web_client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 4


def test_retry_after_is_at_least_one_second_as_slacks_is(fake_slack: FakeSlack) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fake_slack.script("chat.postMessage", status=429, headers={"Retry-After": "0"})


def test_blocks_over_slacks_limits_are_refused_with_its_errors(web_client: WebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_900}}
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([section] * 5, "msg_blocks_too_long"),  # each fits; 14,500 characters together do not
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "invalid_blocks"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}], "invalid_blocks"),
        ([{"type": "no_such_block"}], "invalid_blocks"),
        ([{"type": "actions", "elements": []}], "invalid_blocks"),
    ]
    for blocks, error in cases:
        with pytest.raises(SlackApiError) as raised:
            web_client.chat_postMessage(channel="C1", text="x", blocks=blocks)
        assert raised.value.response["error"] == error
    assert web_client.chat_postMessage(channel="C1", text="x", blocks=[section] * 4)["ok"]


def test_archived_missing_and_unjoined_channels_are_refused(fake_slack: FakeSlack, web_client: WebClient) -> None:
    fake_slack.set_channel("CARCHIVED", "archived")
    fake_slack.set_channel("CGONE", "missing")
    fake_slack.set_channel("COUTSIDE", "not_in_channel")
    for channel, error in [
        ("CARCHIVED", "is_archived"),
        ("CGONE", "channel_not_found"),
        ("COUTSIDE", "not_in_channel"),
        ("general", "channel_not_found"),  # a name, not an id
    ]:
        with pytest.raises(SlackApiError) as raised:
            web_client.chat_postMessage(channel=channel, text="hi")
        assert raised.value.response["error"] == error


def test_connections_open_takes_the_app_token_from_the_header_only(fake_slack: FakeSlack) -> None:
    def connections_open(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(fake_slack.api_url + "apps.connections.open", body, headers, method="POST")
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=3) as response:
            return dict(json.loads(response.read()))

    form = {"Content-Type": FORM}
    assert connections_open(encode_form({"token": fake_slack.app_token}), form)["error"] == "not_authed"
    assert connections_open(b"", form | {"Authorization": f"Bearer {fake_slack.app_token}"})["ok"]


def test_a_trigger_id_expires_three_seconds_after_the_click(fake_slack: FakeSlack, web_client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    assert web_client.views_open(trigger_id=new_trigger_id(), view=view)["ok"]
    stale = f"{int((time.time() - 3.5) * 1000)}.1.x"
    for trigger, error in [(stale, "expired_trigger_id"), ("trig-1", "invalid_trigger_id")]:
        with pytest.raises(SlackApiError) as raised:
            web_client.views_open(trigger_id=trigger, view=view)
        assert raised.value.response["error"] == error


def test_a_response_url_takes_five_posts(fake_slack: FakeSlack) -> None:
    webhook = WebhookClient(fake_slack.response_url("five"))
    statuses = [webhook.send(text=f"reply {n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert json.loads(webhook.send(text="again").body)["error"] == "used_url"


def test_a_response_url_refuses_oversized_blocks(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_900}}] * 5
    response = WebhookClient(fake_slack.response_url()).send(text="x", blocks=blocks)
    assert response.status_code == 400 and json.loads(response.body)["error"] == "msg_blocks_too_long"


# -- Events API over HTTP ------------------------------------------------------------------------


def test_signed_app_mention_is_acked_and_answered(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    body = app_mention_event("<@UBOT> how many PTO days?", ts="1700000000.000100")
    started = time.monotonic()
    status, _, _ = signed_post(url, json.dumps(body).encode(), SECRET)
    assert status == 200 and time.monotonic() - started < 3
    [post] = fake_slack.wait_for_call("chat.postMessage")
    assert post.body["text"] == "pong: <@UBOT> how many PTO days? (retry -)"
    assert post.body["thread_ts"] == "1700000000.000100"


def test_retried_delivery_carries_the_retry_header(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    status, _, _ = signed_post(url, json.dumps(app_mention_event("<@UBOT> hi")).encode(), SECRET, retry_num=1)
    assert status == 200
    assert fake_slack.wait_for_call("chat.postMessage")[0].body["text"].endswith("(retry 1)")


def test_an_event_not_acked_within_3_s_is_sent_again_with_the_retry_headers(fake_slack: FakeSlack) -> None:
    """Slack's HTTP delivery: 3 s per attempt, then retries 1 and 2 with the reason."""
    app = App(client=WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url), signing_secret=SECRET)
    seen: list[tuple[str, str]] = []

    @app.event("app_mention")
    def on_mention() -> None:
        pass

    @app.middleware
    def slow_ack(request: BoltRequest, next: Callable[[], Any]) -> Any:
        seen.append(
            (request.headers.get("x-slack-retry-num", ["-"])[0], request.headers.get("x-slack-retry-reason", ["-"])[0])
        )
        if len(seen) < 3:
            time.sleep(3.5)
        return next()

    servers = WsgiServers()
    try:
        url = servers.start(make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=QuietHandler))
        attempts = deliver_event(url, json.dumps(app_mention_event("<@UBOT> hi")).encode(), SECRET)
    finally:
        servers.stop_all()
    assert [(a.retry_num, a.status) for a in attempts] == [(0, None), (1, None), (2, 200)]
    assert seen == [("-", "-"), ("1", "http_timeout"), ("2", "http_timeout")]


def test_bad_signature_is_rejected(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    raw = json.dumps(app_mention_event("<@UBOT> hi")).encode()
    assert signed_post(url, raw, SECRET, signature="v0=" + "0" * 64)[0] == 401
    assert signed_post(url, raw, "wrong-secret")[0] == 401
    assert signed_post(url, raw, SECRET, timestamp=int(time.time()) - 600)[0] == 401
    assert fake_slack.calls_to("chat.postMessage") == []


def test_url_verification_returns_the_challenge(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    raw = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"}).encode()
    status, _, body = signed_post(url, raw, SECRET)
    assert status == 200 and json.loads(body) == {"challenge": "abc123"}


def test_slash_command_acks_then_responds(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    form = slash_command_form("/policybot", "pto", response_url=fake_slack.response_url("cmd"))
    status, _, body = signed_post(url, encode_form(form), SECRET, content_type=FORM)
    assert (status, body) == (200, b"Looking up pto...")  # a text-only ack() is sent as plain text
    [reply] = fake_slack.wait_for_call("response/cmd")
    assert reply.body == {"text": "answer for pto", "response_type": "ephemeral"}


def test_button_click_responds_to_its_response_url(fake_slack: FakeSlack, bolt_http: Callable[[App], str]) -> None:
    url = bolt_http(build_app(fake_slack))
    payload = block_action_payload("helpful", "yes", response_url=fake_slack.response_url("btn"))
    assert signed_post(url, encode_payload(payload), SECRET, content_type=FORM)[0] == 200
    assert fake_slack.wait_for_call("response/btn")[0].body["text"] == "thanks: yes"


# -- Socket Mode -------------------------------------------------------------------------------


def test_socket_mode_envelope_is_acked_and_answered(fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket) -> None:
    bolt_socket_mode(build_app(fake_slack))
    assert len(fake_slack.calls_to("apps.connections.open")) == 1
    envelope_id = fake_slack.send_envelope("events_api", dm_event("what is the travel policy?"))
    assert fake_slack.wait_for_ack(envelope_id, timeout=3.0) == {"envelope_id": envelope_id}
    assert fake_slack.wait_for_call("chat.postMessage")[0].body["text"] == "dm: what is the travel policy?"


def test_socket_mode_passes_retry_attempts_on(fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket) -> None:
    bolt_socket_mode(build_app(fake_slack))
    envelope_id = fake_slack.send_envelope(
        "events_api", app_mention_event("<@UBOT> hi"), retry_attempt=2, retry_reason="timeout"
    )
    fake_slack.wait_for_ack(envelope_id)
    assert fake_slack.wait_for_call("chat.postMessage")[0].body["text"].endswith("(retry 2)")


def test_socket_mode_ack_carries_the_response_payload(fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket) -> None:
    bolt_socket_mode(build_app(fake_slack))
    command = slash_command_form("/policybot", "pto", response_url=fake_slack.response_url("sm"))
    envelope_id = fake_slack.send_envelope("slash_commands", command, accepts_response_payload=True)
    assert fake_slack.wait_for_ack(envelope_id)["payload"] == {"text": "Looking up pto..."}
    fake_slack.wait_for_call("response/sm")

    view = view_submission_payload("feedback", "doc-7", {"comment": {"text": "unclear"}})
    envelope_id = fake_slack.send_envelope("interactive", view, accepts_response_payload=True)
    assert fake_slack.wait_for_ack(envelope_id)["payload"] == {
        "response_action": "errors",
        "errors": {"comment": "got unclear for doc-7"},
    }


def test_unhandled_envelope_is_never_acked(fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket) -> None:
    bolt_socket_mode(build_app(fake_slack))
    envelope_id = fake_slack.send_envelope("interactive", block_action_payload("no-such-action", "x"))
    with pytest.raises(AssertionError, match="not acked"):
        fake_slack.wait_for_ack(envelope_id, timeout=0.5)


def test_socket_mode_reconnects_after_a_dropped_connection(
    fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket
) -> None:
    bolt_socket_mode(build_app(fake_slack), ping_interval=0.5)  # the monitor notices the drop every ping_interval
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event("one")))
    fake_slack.disconnect_clients()
    fake_slack.wait_for_connections(2)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    event = thread_message_event("two", thread_ts="1700000000.000100")
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", event))
    texts = [call.body["text"] for call in fake_slack.wait_for_call("chat.postMessage", count=2)]
    assert texts == ["dm: one", "dm: two"]


def test_socket_mode_reconnects_on_refresh_request(fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket) -> None:
    bolt_socket_mode(build_app(fake_slack))
    fake_slack.disconnect_clients(reason="refresh_requested")
    fake_slack.wait_for_connections(2)
    fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event("after refresh")))
    assert fake_slack.wait_for_call("chat.postMessage")[0].body["text"] == "dm: after refresh"


def test_a_silent_connection_sends_no_envelopes_and_no_pongs(
    fake_slack: FakeSlack, bolt_socket_mode: ConnectSocket
) -> None:
    handler = bolt_socket_mode(build_app(fake_slack), ping_interval=0.2)
    session = handler.client.current_session
    deadline = time.monotonic() + 3
    while session.last_ping_pong_time is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.last_ping_pong_time is not None  # pongs answered while the connection is healthy
    fake_slack.go_silent()
    time.sleep(0.3)
    last_pong = session.last_ping_pong_time
    envelope_id = fake_slack.send_envelope("events_api", dm_event("lost"))
    with pytest.raises(AssertionError, match="not acked"):
        fake_slack.wait_for_ack(envelope_id, timeout=0.6)
    assert session.last_ping_pong_time == last_pong and fake_slack.calls_to("chat.postMessage") == []
