"""The Slack tokens: from environment variables only (Settings.env), checked before anything slow, never logged.

A missing or rejected token stops the start with one line naming the variable to set.
"""

from __future__ import annotations

import logging
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import SlackStartError

BOT_TOKEN = "SLACK_BOT_TOKEN"
APP_TOKEN = "SLACK_APP_TOKEN"
SIGNING_SECRET = "SLACK_SIGNING_SECRET"
API_URL = "SLACK_API_URL"  # another Web API base URL (a proxy, GovSlack, a test stand-in); default Slack's own


@dataclass(frozen=True)
class Tokens:
    """The secrets the bot runs with; `repr` hides them so they never reach a log."""

    bot_token: str = field(repr=False)
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)


def slack_configured(env: Mapping[str, str]) -> bool:
    """Whether `env` (Settings.env) holds enough to start the bot (bot token plus app token or signing secret)."""
    return bool(env.get(BOT_TOKEN) and (env.get(APP_TOKEN) or env.get(SIGNING_SECRET)))


def read_tokens(http: bool, env: Mapping[str, str]) -> Tokens:
    """The tokens for the chosen mode, or SlackStartError naming the variable to set."""
    bot_token = _require(
        env,
        BOT_TOKEN,
        "xoxb-",
        "export the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions page",
    )
    if http:
        secret = _require(
            env,
            SIGNING_SECRET,
            "",
            "HTTP mode needs the Signing Secret from your Slack app's Basic Information page "
            "(or drop --http and use Socket Mode)",
        )
        return Tokens(bot_token, signing_secret=secret)
    app_token = _require(
        env,
        APP_TOKEN,
        "xapp-",
        "Socket Mode needs an app-level token (xapp-...) with connections:write "
        "(or run `policybot serve --http` with SLACK_SIGNING_SECRET)",
    )
    return Tokens(bot_token, app_token=app_token)


def _require(env: Mapping[str, str], name: str, prefix: str, hint: str) -> str:
    """The variable's value, or SlackStartError saying it is missing or of the wrong kind."""
    value = env.get(name, "").strip()
    if not value:
        raise SlackStartError(f"{name} is not set: {hint}")
    if not value.startswith(prefix):
        raise SlackStartError(f"{name} must be a token starting with {prefix}")
    return value


def check_bot_token(client: WebClient) -> str:
    """Call auth.test; return "@bot in workspace" or raise SlackStartError naming SLACK_BOT_TOKEN."""
    sdk_log = logging.getLogger("slack_sdk.web.base_client")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # its own error line would repeat ours
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        raise SlackStartError(
            f"Slack rejected {BOT_TOKEN} ({exc.response.get('error')}): check the token, "
            "and reinstall the app to your workspace if it was revoked"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SlackStartError(f"cannot reach Slack at {client.base_url} ({reason})") from None
    finally:
        sdk_log.setLevel(level)
    return f"@{auth.get('user')} in {auth.get('team')}"
