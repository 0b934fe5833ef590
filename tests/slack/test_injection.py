"""Mention and link injection: Slack syntax in a question or in a document never becomes a ping or a
disguised link in the bot's reply (Block Kit text and the `text` fallback). Real bolt, FakeSlack,
real model and FAISS over a tiny knowledge folder built in tmp."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.answering.answerer import Answerer
from bot.config import Settings, SlackConfig
from bot.slack.app import build_app
from bot.state.feedback import FeedbackStore
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.slack.fakeslack import Call, FakeSlack, app_mention_event, dm_event

pytestmark = pytest.mark.slow

HOSTILE = (
    "<!channel> <!here> <!everyone> <@U123> <@W999|boss> <#C42|general> <!subteam^S1|@team> "
    "<https://evil.example/login|click here> <!date^1392734382^{date}|Feb 18>"
)
DOCUMENT = f"""---
title: "Grant <!here> Rules"
publisher: "Ministry <@U123>"
source_url: "https://policy.example/grants|Official PCAST report"
---

# Grants <!channel>

The innovation grant covers forty percent of eligible equipment costs <@U123> \
<https://evil.example/login|click here> for small firms. {HOSTILE}

Questions about the grant go to <mailto:help@evil.example|the help desk> or <https://evil.example|the official portal>.
"""
SAFE_SOURCE_HOST = "https://policy.example/grants"


@pytest.fixture(scope="module")
def hostile_answerer(
    tmp_path_factory: pytest.TempPathFactory, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> Answerer:
    root = tmp_path_factory.mktemp("hostile")
    (root / "knowledge").mkdir()
    (root / "knowledge" / "grants.md").write_text(DOCUMENT, encoding="utf-8")
    settings = shipped_settings.model_copy(update={"knowledge_dir": root / "knowledge", "index_dir": root / "index"})
    report = build_index(settings.knowledge_dir, settings.index_dir, embedder, settings.splitter)
    assert report.documents == 1 and not report.problems
    return build_answerer(settings, embedder=embedder)


@pytest.fixture
def connect(fake_slack: FakeSlack, bolt_socket_mode: Callable[..., Any], tmp_path: Path) -> Callable[[Answerer], App]:
    def start(answerer: Answerer) -> App:
        client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
        store = FeedbackStore(tmp_path / "feedback.sqlite3")
        app = build_app(SlackConfig(feedback_db=store.db.path), answerer, client, store, working_after=5.0)
        bolt_socket_mode(app)
        return app

    return start


def everything_posted(call: Call) -> list[str]:
    """Every piece of mrkdwn or text in the message: the fallback and each block's text."""
    parts = [str(call.body.get("text", ""))]
    for block in call.body.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [str(e.get("text", "")) for e in block.get("elements", []) if block["type"] != "actions"]
    return parts


def assert_no_ping_or_disguised_link(call: Call) -> None:
    assert call.body.get("link_names") in (None, False) and call.body.get("parse") in (None, "none")
    for text in everything_posted(call):
        for token in re.findall(r"<([^>]*)>", text):  # Slack acts only on <...> tokens
            assert not token.startswith(("!", "@", "#")), f"a ping or channel link: <{token}> in {text!r}"
            target, _, label = token.partition("|")
            assert "|" not in label, f"a link label smuggled through its URL: <{token}>"
            assert target.startswith(SAFE_SOURCE_HOST) or target.startswith("https://www.manufacturing-policy"), (
                f"a link to somewhere other than the cited source: <{token}>"
            )


def test_slack_syntax_in_a_document_is_quoted_as_text(
    fake_slack: FakeSlack, connect: Callable[[Answerer], App], hostile_answerer: Answerer
) -> None:
    connect(hostile_answerer)
    fake_slack.send_envelope("events_api", dm_event("How much of the equipment costs does the innovation grant cover?"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=10)
    answer = post.body["blocks"][0]["text"]["text"]
    assert "forty percent" in answer  # quoted verbatim, the Slack syntax shown as typed:
    assert "&lt;@U123&gt; &lt;https://evil.example/login|click here&gt;" in answer
    assert_no_ping_or_disguised_link(post)
    sources = post.body["blocks"][1]["text"]["text"]
    assert "<https://policy.example/grants%7COfficial%20PCAST%20report|" in sources  # its real URL, visibly odd


def test_slack_syntax_in_a_question_is_not_echoed_as_a_ping(
    fake_slack: FakeSlack, connect: Callable[[Answerer], App], answerer: Answerer
) -> None:
    connect(answerer)
    fake_slack.send_envelope("events_api", dm_event(f"{HOSTILE} What pillars do the AMP recommendations rest on?"))
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {HOSTILE} What is Atlantis's <!here> plan?"))
    for post in fake_slack.wait_for_call("chat.postMessage", count=2, timeout=10):
        assert_no_ping_or_disguised_link(post)
