"""Tokens and the signing secret never reach a log line (at DEBUG, slack_sdk and slack_bolt included), an
error message or `--json` output: start-up in both modes, rejected tokens, bad requests, answering."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.cli import main
from bot.config import Settings
from bot.errors import SlackStartError
from bot.slack.serve import serve
from tests.slack.fakeslack import FakeSlack, dm_event, signed_post

pytestmark = pytest.mark.slow

BOT_TOKEN = "xoxb-1111-2222-SECRETBOTTOKEN"
APP_TOKEN = "xapp-1-A1-3333-SECRETAPPTOKEN"
SIGNING_SECRET = "8f2e1c0d9b8a7f6e5d4c3b2a1SECRET"
ROOT = Path(__file__).resolve().parent.parent
PILLARS = "What pillars do the AMP recommendations rest on?"
TOKEN_PATTERN = re.compile(r"xox[abposr]-[0-9A-Za-z-]{4,}|xapp-[0-9A-Za-z-]{4,}")


@pytest.fixture
def secret_slack(no_proxy_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # root: every library logger inherits it
    for name in ("slack_sdk", "slack_bolt", "urllib3", "websockets"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_no_secret(text: str) -> None:
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "SECRETBOTTOKEN", "SECRETAPPTOKEN"):
        assert secret not in text
    assert TOKEN_PATTERN.findall(text) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(settings: Settings, http: bool, env: dict[str, str], fake: FakeSlack, answerer: Answerer):
    stop, online = threading.Event(), threading.Event()
    lines: list[str] = []

    def announce(line: str) -> None:
        lines.append(line)
        online.set()

    kwargs = {"settings": settings, "http": http, "env": env, "base_url": fake.api_url, "stop": stop}
    thread = threading.Thread(
        target=serve, kwargs={**kwargs, "answerer_factory": lambda _: answerer, "announce": announce}, daemon=True
    )
    thread.start()
    assert online.wait(10), "the bot did not come online"
    return stop, thread, lines


def test_no_secret_in_logs_while_starting_answering_and_refusing_in_http_mode(
    secret_slack: FakeSlack,
    debug_logs: pytest.LogCaptureFixture,
    shipped_settings: Settings,
    answerer: Answerer,
    tmp_path: Path,
) -> None:
    port = _free_port()
    slack = shipped_settings.slack.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3", "http_port": port})
    settings = shipped_settings.model_copy(update={"slack": slack})
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    stop, thread, lines = _serving(settings, True, env, secret_slack, answerer)
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        assert signed_post(url, json.dumps(dm_event(PILLARS)).encode(), SIGNING_SECRET)[0] == 200
        assert signed_post(url, json.dumps(dm_event(PILLARS)).encode(), "forged")[0] == 401
        assert signed_post(url, b"{not json", SIGNING_SECRET)[0] == 400
        [post] = secret_slack.wait_for_call("chat.postMessage", timeout=10)
        assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"  # the token was really in use
    finally:
        stop.set()
        thread.join(timeout=10)
    assert "'Authorization': '(redacted)'" in debug_logs.text  # slack_sdk logs the header at DEBUG, redacted
    assert_no_secret(debug_logs.text + "\n".join(lines) + json.dumps(post.body))


def test_no_secret_in_logs_in_socket_mode(
    secret_slack: FakeSlack,
    debug_logs: pytest.LogCaptureFixture,
    shipped_settings: Settings,
    answerer: Answerer,
    tmp_path: Path,
) -> None:
    slack = shipped_settings.slack.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
    settings = shipped_settings.model_copy(update={"slack": slack})
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    stop, thread, lines = _serving(settings, False, env, secret_slack, answerer)
    try:
        secret_slack.send_envelope("events_api", dm_event(PILLARS))
        secret_slack.wait_for_call("chat.postMessage", timeout=10)
    finally:
        stop.set()
        secret_slack.disconnect_clients()
        thread.join(timeout=10)
    assert_no_secret(debug_logs.text + "\n".join(lines))


@pytest.mark.parametrize(
    "env",
    [
        {"SLACK_BOT_TOKEN": "xoxb-9999-REVOKEDSECRET", "SLACK_APP_TOKEN": APP_TOKEN},
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-WRONGSECRET"},
        {"SLACK_BOT_TOKEN": APP_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN},  # swapped
    ],
)
def test_rejected_tokens_are_named_not_shown(
    secret_slack: FakeSlack,
    debug_logs: pytest.LogCaptureFixture,
    shipped_settings: Settings,
    answerer: Answerer,
    tmp_path: Path,
    env: dict[str, str],
) -> None:
    slack = shipped_settings.slack.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
    settings = shipped_settings.model_copy(update={"slack": slack})
    with pytest.raises(SlackStartError) as raised:
        serve(settings, False, env, answerer_factory=lambda _: answerer, base_url=secret_slack.api_url)
    assert "SLACK_" in str(raised.value)
    assert_no_secret(str(raised.value) + debug_logs.text)
    assert "REVOKEDSECRET" not in debug_logs.text and "WRONGSECRET" not in str(raised.value) + debug_logs.text


def test_ask_json_and_cli_errors_carry_no_secret(
    shipped_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {shipped_settings.index_dir}\nknowledge_dir: {shipped_settings.knowledge_dir}\n")
    assert main(["--config", str(config), "-v", "ask", "--json", PILLARS]) == 0
    assert main(["--config", str(config), "ask", "--json", ""]) == 2
    assert main(["--config", str(tmp_path / "missing.yaml"), "ask", "x"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out.split("\n}\n")[0] + "\n}")["question"] == PILLARS
    assert_no_secret(out + err + debug_logs.text)
