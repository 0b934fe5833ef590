"""The manifest requests only what the enabled features use, and slack/manifest.yaml is its default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import SlackConfig
from bot.slack.manifest import manifest

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_manifest_is_the_default_one() -> None:
    assert yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text()) == manifest(SlackConfig())


def test_without_thread_follow_ups_no_channel_history_is_requested() -> None:
    lean = manifest(SlackConfig(answer_thread_followups=False))
    assert not {"channels:history", "groups:history"} & set(lean["oauth_config"]["scopes"]["bot"])
    assert not {"message.channels", "message.groups"} & set(lean["settings"]["event_subscriptions"]["bot_events"])
    assert "app_mention" in lean["settings"]["event_subscriptions"]["bot_events"]  # mentions still answered


def test_policybot_manifest_prints_the_http_mode_manifest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = "https://bot.example.org/slack/events"
    (tmp_path / "config.yaml").write_text("slack:\n  answer_thread_followups: false\n")
    assert main(["--config", str(tmp_path / "config.yaml"), "manifest", "--http", url]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["settings"]["socket_mode_enabled"] is False
    assert (
        printed["settings"]["event_subscriptions"]["request_url"]
        == url
        == printed["settings"]["interactivity"]["request_url"]
    )
    assert printed["features"]["slash_commands"][0]["url"] == url
    assert "channels:history" not in printed["oauth_config"]["scopes"]["bot"]
