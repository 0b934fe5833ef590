"""Reconnect a Socket Mode connection that went quiet: the known "connected, but no events" failure.

The socket stays open, so the client sees nothing wrong, yet Slack delivers nothing on it (and may
stop answering pings). `SocketWatchdog` watches what arrives: when no pong has come for
`pong_timeout` seconds, or nothing at all from Slack (an envelope, a hello, a refresh) for
`quiet_timeout`, it opens a new connection. Slack itself replaces each connection about hourly,
so a quiet workspace reconnects rarely and cheaply.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk.socket_mode.builtin.client import SocketModeClient

log = logging.getLogger(__name__)

PONG_TIMEOUT = 30.0  # seconds without a pong: the client pings every ping_interval (10 s with bolt's handler)
QUIET_TIMEOUT = 15 * 60.0  # seconds without any message from Slack


class SocketWatchdog:
    """Watch `client` from a daemon thread; `stop()` ends it."""

    def __init__(
        self,
        client: SocketModeClient,
        pong_timeout: float = PONG_TIMEOUT,
        quiet_timeout: float = QUIET_TIMEOUT,
        check_every: float = 1.0,
    ) -> None:
        self.client = client
        self.pong_timeout = pong_timeout
        self.quiet_timeout = quiet_timeout
        self.check_every = check_every
        self.reconnects = 0
        self._last_message = time.time()
        self._since = time.time()  # when the connection being watched was opened (or last replaced)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="policybot-socket-watchdog", daemon=True)
        client.message_listeners.append(self._on_message)

    def start(self) -> SocketWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _on_message(self, client: Any, message: dict[str, Any], raw: str | None = None) -> None:
        self._last_message = time.time()

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every):
            try:
                reason = self._stale()
                if reason:
                    log.warning("Socket Mode connection went quiet (%s): opening a new one", reason)
                    self.reconnects += 1
                    self._since = self._last_message = time.time()
                    self.client.connect_to_new_endpoint(force=True)
            except Exception:
                log.exception("the Socket Mode watchdog could not reconnect; it tries again")

    def _stale(self) -> str:
        """Why the connection looks dead, or "" while it looks alive."""
        now = time.time()
        session = self.client.current_session
        if session is None or not self.client.auto_reconnect_enabled:
            return ""
        last_pong = max(session.last_ping_pong_time or 0.0, self._since)
        if now - last_pong > self.pong_timeout:
            return f"no pong for {now - last_pong:.0f} s"
        if now - self._last_message > self.quiet_timeout:
            return f"no message from Slack for {now - self._last_message:.0f} s"
        return ""
