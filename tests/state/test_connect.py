"""Opening the configured state database: an unreachable server stops the start with one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from tests.postgres_fixtures import PASSWORD
from tests.slack.fakeslack import FakeSlack


def test_an_unreachable_postgres_stops_the_start_with_one_line(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    for name, value in {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": fake_slack.api_url,
        "POLICYBOT_DATABASE_URL": f"postgresql://bot:{PASSWORD}@127.0.0.1:{closed}/policy",
    }.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {tmp_path / 'none'}\n")
    for command in (["serve", "--http"], ["feedback"]):
        assert main(["--config", str(config), *command]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"postgresql://bot:***@127.0.0.1:{closed}/policy" in err and PASSWORD not in err
        assert "check POLICYBOT_DATABASE_URL" in err
