"""Starting the Slack bot: one clear line for a missing or rejected token; both modes answer a question."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.answering.answerer import Answerer
from bot.cli import main
from bot.config import Settings
from bot.errors import SlackStartError
from bot.slack.listeners.commands import COMMAND
from bot.slack.serve import serve
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.slack.fakeslack import FakeSlack, dm_event, signed_post
from tests.state.replica_processes import free_port

ROOT = Path(__file__).resolve().parents[2]
PILLARS = "What pillars do the AMP recommendations rest on?"


@pytest.mark.parametrize(
    ("env", "args", "variable"),
    [
        ({}, ["serve"], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve"], "SLACK_APP_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve", "--http"], "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xapp-oops", "SLACK_APP_TOKEN": "xapp-1"}, ["serve"], "SLACK_BOT_TOKEN must be"),
    ],
)
def test_missing_token_stops_the_start_with_one_line_naming_it(
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    args: list[str],
    variable: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--config", str(ROOT / "config.yaml"), *args]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and variable in err and "Traceback" not in err
    assert "xoxb-1" not in err and "xapp-1" not in err


def test_rejected_bot_token_names_the_variable(fake_slack: FakeSlack, shipped_settings: Settings) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_APP_TOKEN": fake_slack.app_token}
    with pytest.raises(SlackStartError, match=r"^Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)") as raised:
        serve(shipped_settings, http=False, env=env, base_url=fake_slack.api_url, answerer_factory=_unused)
    assert "xoxb-revoked" not in str(raised.value)


def test_rejected_app_token_names_the_variable(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_APP_TOKEN": "xapp-wrong"}
    with pytest.raises(SlackStartError, match=r"^Slack rejected SLACK_APP_TOKEN \(invalid_auth\)"):
        serve(
            _with_db(shipped_settings, tmp_path),
            http=False,
            env=env,
            base_url=fake_slack.api_url,
            answerer_factory=lambda _: answerer,
        )


def _unused(settings: Settings) -> Answerer:
    raise AssertionError("the answerer must not load before the tokens are checked")


def _with_db(settings: Settings, tmp_path: Path, **slack: Any) -> Settings:
    return settings.model_copy(
        update={"slack": settings.slack.model_copy(update={"feedback_db": tmp_path / "feedback.sqlite3", **slack})}
    )


def _run(settings: Settings, http: bool, env: dict[str, str], fake: FakeSlack, answerer: Answerer) -> threading.Event:
    stop, online = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve,
        daemon=True,
        kwargs={
            "settings": settings,
            "http": http,
            "env": env,
            "base_url": fake.api_url,
            "stop": stop,
            "answerer_factory": lambda _: answerer,
            "announce": lambda line: online.set(),
        },
    )
    thread.start()
    assert online.wait(10), "the bot did not come online"
    return stop


@pytest.mark.slow
def test_serve_in_socket_mode_answers_a_dm(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_APP_TOKEN": fake_slack.app_token}
    stop = _run(_with_db(shipped_settings, tmp_path), False, env, fake_slack, answerer)
    try:
        fake_slack.send_envelope("events_api", dm_event(PILLARS))
        [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
        assert "three pillars" in post.body["blocks"][0]["text"]["text"]
    finally:
        stop.set()
        fake_slack.disconnect_clients()


@pytest.mark.slow
def test_serve_in_http_mode_answers_a_signed_event(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    port = free_port()
    settings = _with_db(shipped_settings, tmp_path, http_port=port)
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_SIGNING_SECRET": "s3cret"}
    stop = _run(settings, True, env, fake_slack, answerer)
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        assert signed_post(url, json.dumps(dm_event(PILLARS)).encode(), "wrong")[0] == 401
        assert signed_post(url, json.dumps(dm_event(PILLARS)).encode(), "s3cret")[0] == 200
        [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
        assert "three pillars" in post.body["blocks"][0]["text"]["text"]
    finally:
        stop.set()


def test_manifest_subscribes_to_everything_the_bot_listens_for() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "message.groups"} <= events
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "im:history",
        "channels:history",
        "chat:write",
        "commands",
        "reactions:write",
    } <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]
    # the AI-app surface and the Home tab (bot/slack/listeners/assistant.py)
    assert {"assistant_thread_started", "assistant_thread_context_changed", "app_home_opened"} <= events
    assert "assistant:write" in scopes and "assistant_view" in manifest["features"]
    assert manifest["features"]["app_home"]["home_tab_enabled"]


@pytest.mark.slow
def test_a_new_index_is_picked_up_and_its_digest_posted_while_serving(
    fake_slack: FakeSlack,
    shipped_settings: Settings,
    embedder: SentenceTransformerEmbedder,
    knowledge_copy: Path,
    tmp_path: Path,
) -> None:
    settings = _with_db(shipped_settings, tmp_path, changes_channel="CNEWS").model_copy(
        update={
            "knowledge_dir": knowledge_copy,
            "index_dir": tmp_path / "index",
            "indexing": shipped_settings.indexing.model_copy(update={"reload_seconds": 0.2}),
        }
    )
    build_index(knowledge_copy, settings.index_dir, embedder, settings.splitter)
    answerer = build_answerer(settings, embedder=embedder)
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_APP_TOKEN": fake_slack.app_token}
    stop = _run(settings, False, env, fake_slack, answerer)
    try:
        doc = knowledge_copy / "united-states" / "key-policies.md"
        doc.write_text(doc.read_text().replace("three pillars", "three main pillars"))
        build_index(knowledge_copy, settings.index_dir, embedder, settings.splitter)
        [digest] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
        assert digest.body["channel"] == "CNEWS"
        assert "sections edited: united-states/key-policies.md: National Policy &gt; Capturing" in digest.body["text"]
        fake_slack.send_envelope("events_api", dm_event(PILLARS))
        answer = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)[1]
        assert "three main pillars" in answer.body["blocks"][0]["text"]["text"]
    finally:
        stop.set()
        fake_slack.disconnect_clients()


def test_a_host_this_machine_does_not_have_is_blamed_on_slack_http_host(
    fake_slack: FakeSlack, shipped_settings: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    settings = _with_db(shipped_settings, tmp_path, http_host="192.0.2.1")  # TEST-NET-1: never an address here
    env = {"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_SIGNING_SECRET": "s3cret"}
    with pytest.raises(SlackStartError, match=r"^cannot listen on 192\.0\.2\.1:3000 \(.+\): change slack\.http_host$"):
        serve(settings, http=True, env=env, base_url=fake_slack.api_url, answerer_factory=lambda _: answerer)
