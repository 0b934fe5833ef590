"""What a user does in Slack, sent to an app served over HTTP as Slack sends it: signed, with the replies
to the fake's response URLs."""

from __future__ import annotations

from typing import Any

from bot.slack.listeners.commands import COMMAND
from tests.slack.fakeslack import (
    FORM,
    FakeSlack,
    block_action_payload,
    encode_form,
    encode_payload,
    signed_post,
    slash_command_form,
)
from tests.slack.replies import SECRET


def command(
    fake: FakeSlack, url: str, text: str, name: str = "r1", extra: dict[str, str] | None = None, **fields: Any
) -> tuple[int, dict[str, str], bytes]:
    """Type `/policy text`; its replies go to response URL `name`. `fields` go to `slash_command_form`,
    `extra` into the form as they are (e.g. `is_ext_shared_channel`)."""
    form = slash_command_form(COMMAND, text, response_url=fake.response_url(name), **fields)
    return signed_post(url, encode_form(form | (extra or {})), SECRET, content_type=FORM)


def click(
    fake: FakeSlack, url: str, action_id: str, value: str, name: str = "click", team: str | None = None, **fields: Any
) -> int:
    """Click a button (`action_id`, `value`) on a bot message, as a user of `team` (default: the bot's own);
    its replies go to response URL `name`. Returns the HTTP status of the acknowledgement."""
    payload = block_action_payload(action_id, value, response_url=fake.response_url(name), **fields)
    if team:
        payload["user"]["team_id"] = team
    return signed_post(url, encode_payload(payload), SECRET, content_type=FORM)[0]
