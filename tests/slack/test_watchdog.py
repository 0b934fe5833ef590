"""A Socket Mode connection that stays open but goes silent is replaced: the client alone does not notice
for 40 s (4 pings of bolt's 10 s), the watchdog opens a new connection and questions are answered again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.slack.watchdog import SocketWatchdog
from tests.slack.fakeslack import FakeSlack, dm_event
from tests.slack.replies import PILLARS, MakeApp, text_of

pytestmark = pytest.mark.slow


def test_a_connection_gone_silent_is_replaced_by_the_watchdog(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_socket_mode: Callable[..., Any]
) -> None:
    handler = bolt_socket_mode(make_app())  # bolt's ping_interval: 10 s
    fake_slack.go_silent()
    lost = fake_slack.send_envelope("events_api", dm_event(PILLARS, channel="DLOST"))
    with pytest.raises(AssertionError, match="not acked"):
        fake_slack.wait_for_ack(lost, timeout=2.0)
    assert fake_slack.connection_count == 1  # the client has noticed nothing
    watchdog = SocketWatchdog(handler.client, pong_timeout=60, quiet_timeout=1.0, check_every=0.2).start()
    try:
        fake_slack.wait_for_connections(2, timeout=5)
        watchdog.quiet_timeout = 600  # one replacement is the point; a quiet test must not churn connections
        _settle(handler.client)
        fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event(PILLARS, channel="DBACK")))
        [answer] = fake_slack.wait_for_call("chat.postMessage", timeout=10)
        assert answer.body["channel"] == "DBACK" and "three pillars" in text_of(answer)
        assert watchdog.reconnects >= 1
    finally:
        watchdog.stop()


def test_a_connection_without_pongs_is_replaced(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_socket_mode: Callable[..., Any]
) -> None:
    handler = bolt_socket_mode(make_app(), ping_interval=2)  # the client's own check gives up after 4 pings: 9 s
    watchdog = SocketWatchdog(handler.client, pong_timeout=3.5, quiet_timeout=600, check_every=0.2).start()
    try:
        time.sleep(4)  # healthy: pongs come back, nothing is replaced
        assert fake_slack.connection_count == 1 and watchdog.reconnects == 0
        fake_slack.go_silent()
        silent_at = time.monotonic()
        fake_slack.wait_for_connections(2, timeout=6)  # the client alone: 7 to 9 s
        assert time.monotonic() - silent_at < 6 and watchdog.reconnects == 1
        _settle(handler.client)
        fake_slack.wait_for_ack(fake_slack.send_envelope("events_api", dm_event(PILLARS, channel="DPONG")))
    finally:
        watchdog.stop()


def _settle(client: Any, timeout: float = 3.0) -> None:
    """Wait until the client's new connection is up (the fake counts it when its handshake starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (client.current_session and client.current_session.is_active()):
        time.sleep(0.05)
    time.sleep(0.3)  # its hello is read and the old connection closed
