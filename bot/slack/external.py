"""Slack Connect: answers in externally shared channels, and to users of other organisations, are off
unless `slack.answer_external` is set. The knowledge base is the organisation's; a partner in a
shared channel should not be able to query it by mentioning the bot.

The request's own fields (`is_ext_shared_channel`, the user's team) are checked before it is
acknowledged; the answer pool then asks Slack (`conversations.info`, kept per channel for an hour)
about a channel it has not seen, since a request's fields do not always say the channel is shared.

>>> from_outside({"type": "event_callback", "team_id": "T1", "is_ext_shared_channel": True, "event": {}})
True
>>> from_outside({"type": "event_callback", "team_id": "T1", "event": {"user_team": "T1"}})
False
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk import WebClient

from bot.slack.delivery import slack_error

log = logging.getLogger(__name__)

EXTERNAL_OFF = "PolicyBot does not answer in channels shared with other organisations."
CHANNEL_INFO_SECONDS = 3600.0  # how long what conversations.info said about a channel is kept


def from_outside(body: dict[str, Any]) -> bool:
    """Whether a request comes from an externally shared channel, or from a user of another workspace."""
    if body.get("is_ext_shared_channel") in (True, "true"):
        return True
    home = body.get("team_id") or (body.get("team") or {}).get("id")
    event = body.get("event") or {}
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    teams = {event.get("user_team"), event.get("source_team"), user.get("team_id")} - {None, ""}
    return bool(home) and any(team != home for team in teams)


def refuse_outside(enabled: bool) -> Callable[..., BoltResponse | None]:
    """Middleware: unless `enabled`, acknowledge requests from outside (see `from_outside`) and do nothing else."""

    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse | None]) -> BoltResponse | None:
        if enabled or not from_outside(body):
            return next()
        log.info("ignored a request from outside the organisation (slack.answer_external is off)")
        if body.get("command"):  # a slash command's reply is shown to the user who typed it
            reply = json.dumps({"response_type": "ephemeral", "text": EXTERNAL_OFF})
            return BoltResponse(status=200, body=reply, headers={"Content-Type": "application/json"})
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})

    return middleware


class SharedChannels:
    """Which channels are shared with other organisations, as `conversations.info` says (`is_ext_shared`).

    Slack is asked once per channel and the answer kept for `seconds`; listener threads share one cache.
    Direct messages are not asked about (a user of another organisation is told by the request itself).
    When Slack cannot be asked (a missing `channels:read` scope, an error), the request's fields decide
    and the channel is asked about again next time.
    """

    def __init__(self, seconds: float = CHANNEL_INFO_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._known: dict[str, tuple[bool, float]] = {}  # channel -> (externally shared, when Slack said so)
        self._asking: dict[str, threading.Lock] = {}  # channel -> held while Slack is asked: one lookup a channel
        self._lock = threading.Lock()

    def external(self, client: WebClient, channel: str) -> bool:
        """Whether `channel` is shared with another organisation."""
        if not channel or channel.startswith("D"):
            return False
        with self._lock:
            asking = self._asking.setdefault(channel, threading.Lock())
        with asking:  # questions arriving together in a new channel wait for the first one's lookup
            with self._lock:
                known = self._known.get(channel)
            if known is not None and self.clock() - known[1] < self.seconds:
                return known[0]
            try:
                info = client.conversations_info(channel=channel).get("channel") or {}
            except Exception as exc:
                log.warning("cannot ask Slack whether channel %s is shared externally: %s", channel, slack_error(exc))
                return False
            shared = bool(info.get("is_ext_shared"))
            with self._lock:
                self._known[channel] = (shared, self.clock())
            return shared
