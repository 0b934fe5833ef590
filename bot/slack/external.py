"""Slack Connect: answers in externally shared channels, and to users of other organisations, are off
unless `slack.answer_external` is set. The knowledge base is the organisation's; a partner in a
shared channel should not be able to query it by mentioning the bot.

>>> from_outside({"type": "event_callback", "team_id": "T1", "is_ext_shared_channel": True, "event": {}})
True
>>> from_outside({"type": "event_callback", "team_id": "T1", "event": {"user_team": "T1"}})
False
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse

log = logging.getLogger(__name__)

EXTERNAL_OFF = "PolicyBot does not answer in channels shared with other organisations."


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
