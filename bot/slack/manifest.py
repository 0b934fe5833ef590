"""The Slack app manifest for the configured features: it requests only the scopes and events they use.

`policybot manifest [--http URL]` prints it; slack/manifest.yaml is its output for the default
settings (a test keeps the two in step). Turning `slack.answer_thread_followups` off drops the
channel-history scopes and message events, for one.
"""

from __future__ import annotations

from typing import Any

from bot.config import SlackConfig
from bot.slack.listeners.commands import COMMAND

DESCRIPTION = "Answers manufacturing policy questions from a curated knowledge base, with citations."


def manifest(config: SlackConfig, http_url: str | None = None) -> dict[str, Any]:
    """The manifest for `config`: Socket Mode, or HTTP mode with every request sent to `http_url`."""
    scopes = ["app_mentions:read", "im:history", "chat:write", "commands", "reactions:write", "assistant:write"]
    events = ["app_mention", "message.im", "app_home_opened", "assistant_thread_started"]
    events.append("assistant_thread_context_changed")
    if config.answer_thread_followups:  # replies in channel threads the bot answered in, without a mention
        scopes[1:1] = ["channels:history", "groups:history"]
        events[1:1] = ["message.channels", "message.groups"]
    if not config.answer_external:  # conversations.info: is the channel shared with another organisation?
        scopes += ["channels:read", "groups:read"]
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "Ask PolicyBot privately (you can share the answer)",
        "usage_hint": "[question]",
        "should_escape": False,
    }
    subscriptions: dict[str, Any] = {"bot_events": events}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if http_url:
        command["url"] = subscriptions["request_url"] = interactivity["request_url"] = http_url
    return {
        "display_information": {"name": "PolicyBot", "description": DESCRIPTION, "background_color": "#1d3557"},
        "features": {
            "bot_user": {"display_name": "PolicyBot", "always_online": True},
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "assistant_view": {
                "assistant_description": "Answers questions from the policy documents, with citations.",
                "suggested_prompts": [],
            },
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": scopes}},
        "settings": {
            "event_subscriptions": subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": not http_url,
            "token_rotation_enabled": False,
        },
    }
