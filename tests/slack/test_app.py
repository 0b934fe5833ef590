"""The Slack bot end to end: real slack-bolt and slack-sdk against the loopback FakeSlack, real answerer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.slack.blocks import APOLOGY, FEEDBACK_MODAL, HELPFUL, NOT_HELPFUL, SHARE
from bot.slack.listeners.commands import COMMAND
from bot.state.feedback import FeedbackStore
from tests.slack.fakeslack import (
    FORM,
    Call,
    FakeSlack,
    app_mention_event,
    block_action_payload,
    dm_event,
    encode_form,
    encode_payload,
    signed_post,
    slash_command_form,
    thread_message_event,
    view_submission_payload,
)
from tests.state.stored import stored_votes

pytestmark = pytest.mark.slow

SECRET = "test-signing-secret"
PILLARS = "What pillars do the AMP recommendations rest on?"
OBJECTIVES = "What are the five objectives of the 2012 National Strategic Plan for Advanced Manufacturing?"
MakeApp = Callable[..., App]


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


@pytest.fixture
def make_app(fake_slack: FakeSlack, answerer: Answerer, store: FeedbackStore) -> Iterator[MakeApp]:
    """Factory for the real PolicyBot App wired to the fake; keyword arguments go to SlackConfig."""

    def make(custom_answerer: Any = None, working_after: float = 0.0, **config: Any) -> App:
        client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
        settings = SlackConfig(feedback_db=store.db.path, **config)
        return build_app(
            settings, custom_answerer or answerer, client, store, signing_secret=SECRET, working_after=working_after
        )

    yield make


@pytest.fixture
def socket_app(make_app: MakeApp, bolt_socket_mode: Callable[..., Any]) -> Callable[..., App]:
    def connect(**kwargs: Any) -> App:
        app = make_app(**kwargs)
        bolt_socket_mode(app)
        return app

    return connect


def text_of(call: Call) -> str:
    """Everything a reader sees in a posted message."""
    parts = [str(call.body.get("text", ""))]
    for block in call.body.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [str(e.get("text", "")) for e in block.get("elements", [])]
    return "\n".join(parts)


def buttons(call: Call) -> dict[str, str]:
    """action_id -> value of the message's buttons."""
    return {
        e["action_id"]: e["value"] for b in call.body.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    }


def posts_after_sentinel(fake: FakeSlack, expected: int) -> list[Call]:
    """Send a DM that must be answered, wait for it, and return the messages posted before it."""
    fake.send_envelope("events_api", dm_event("sentinel: " + PILLARS, channel="DSENTINEL"))
    calls = fake.wait_for_call("chat.postMessage", count=expected + 1, timeout=5)
    time.sleep(0.2)  # anything still in flight would have landed by now
    calls = fake.calls_to("chat.postMessage")
    return [c for c in calls if c.body["channel"] != "DSENTINEL"]


# -- Ways to ask ---------------------------------------------------------------------------------


def test_mention_is_answered_in_its_thread_with_cited_blocks(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    envelope = fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000100"))
    assert fake_slack.wait_for_ack(envelope) == {"envelope_id": envelope}
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["channel"] == "C1" and post.body["thread_ts"] == "1700.000100"
    answer, sources = post.body["blocks"][0]["text"]["text"], post.body["blocks"][1]["text"]["text"]
    assert "three pillars" in answer and "[1]" in answer
    assert sources.startswith("*Sources*\n<https://www.manufacturing-policy.eng.cam.ac.uk/")
    assert "#:~:text=Capturing%20Domestic" in sources
    assert set(buttons(post)) == {HELPFUL, NOT_HELPFUL}
    [added] = fake_slack.wait_for_call("reactions.add")
    [removed] = fake_slack.wait_for_call("reactions.remove")
    for call in (added, removed):
        assert (call.body["channel"], call.body["timestamp"], call.body["name"]) == ("C1", "1700.000100", "eyes")


def test_direct_message_is_answered_in_the_dm(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", dm_event(OBJECTIVES, channel="D7"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["channel"] == "D7" and "thread_ts" not in post.body
    assert "five objectives" in text_of(post) and "• Accelerate investment" in text_of(post)


def test_slow_answer_is_acked_at_once_and_shows_a_reaction_meanwhile(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_socket_mode: Callable[..., Any], answerer: Answerer
) -> None:
    class SlowAnswerer:  # the real answerer, one second slower
        def ask(self, question: str, k: int | None = None) -> Answer:
            time.sleep(1.0)
            return answerer.ask(question, k)

    bolt_socket_mode(make_app(custom_answerer=SlowAnswerer(), working_after=0.2))
    started = time.monotonic()
    envelope = fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000200"))
    fake_slack.wait_for_ack(envelope, timeout=3)
    assert time.monotonic() - started < 0.5
    fake_slack.wait_for_call("reactions.add", timeout=1)
    assert fake_slack.calls_to("chat.postMessage") == []
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    fake_slack.wait_for_call("reactions.remove", timeout=2)


def test_follow_up_in_an_answered_thread_needs_no_mention(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000300"))
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    fake_slack.send_envelope(
        "events_api", thread_message_event(OBJECTIVES, thread_ts="1700.000300", parent_user_id="U1")
    )
    [_, follow_up] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert follow_up.body["thread_ts"] == "1700.000300" and "five objectives" in text_of(follow_up)
    for chatter in ("thanks!", "<@U2> what do you think about this one?"):
        fake_slack.send_envelope(
            "events_api", thread_message_event(chatter, thread_ts="1700.000300", parent_user_id="U1")
        )
    fake_slack.send_envelope(
        "events_api", thread_message_event(OBJECTIVES, thread_ts="1699.000001", parent_user_id="U1")
    )  # a thread we never joined
    assert len(posts_after_sentinel(fake_slack, expected=2)) == 2


def test_follow_ups_can_be_switched_off(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app(answer_thread_followups=False)
    fake_slack.send_envelope("events_api", thread_message_event(OBJECTIVES, thread_ts="1700.000400"))
    assert posts_after_sentinel(fake_slack, expected=0) == []


def test_mention_inside_an_answered_thread_is_answered_once(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000500"))
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    text, ts = f"<@UBOT> {OBJECTIVES}", "1700.000600"
    fake_slack.send_envelope(
        "events_api", thread_message_event(text, thread_ts="1700.000500", ts=ts, parent_user_id="U1")
    )
    fake_slack.send_envelope("events_api", app_mention_event(text, ts=ts, thread_ts="1700.000500"))
    assert len(posts_after_sentinel(fake_slack, expected=2)) == 2


# -- Must behave ---------------------------------------------------------------------------------


def test_retried_event_is_answered_once(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    body = app_mention_event(f"<@UBOT> {PILLARS}", event_id="EvRETRY1")
    first = fake_slack.send_envelope("events_api", body)
    again = fake_slack.send_envelope("events_api", body, retry_attempt=1, retry_reason="timeout")
    fake_slack.wait_for_ack(first)
    fake_slack.wait_for_ack(again)
    assert len(posts_after_sentinel(fake_slack, expected=1)) == 1


def test_http_retry_is_answered_once_even_after_a_restart(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    raw = json.dumps(app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000700", event_id="EvRETRY2")).encode()
    url = bolt_http(make_app())
    assert signed_post(url, raw, SECRET)[0] == 200
    fake_slack.wait_for_call("chat.postMessage", timeout=5)
    status, headers, _ = signed_post(url, raw, SECRET, retry_num=1)
    assert status == 200 and headers.get("x-slack-no-retry") == "1"
    restarted = bolt_http(make_app())  # a fresh process: only the feedback store remembers the answer
    assert signed_post(restarted, raw, SECRET, retry_num=2)[0] == 200
    assert len(posts_after_sentinel_http(fake_slack, restarted, expected=1)) == 1


def posts_after_sentinel_http(fake: FakeSlack, url: str, expected: int) -> list[Call]:
    signed_post(url, json.dumps(dm_event("sentinel: " + PILLARS, channel="DSENTINEL")).encode(), SECRET)
    fake.wait_for_call("chat.postMessage", count=expected + 1, timeout=5)
    time.sleep(0.2)
    return [c for c in fake.calls_to("chat.postMessage") if c.body["channel"] != "DSENTINEL"]


def test_rate_limited_reply_is_retried_and_arrives(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.script("chat.postMessage", status=429, headers={"Retry-After": "0"})
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [limited, delivered] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert limited.body == delivered.body and "three pillars" in text_of(delivered)


def test_disallowed_channel_gets_no_reply(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app(allowed_channels=["CALLOWED"])
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="COTHER"))
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="CALLOWED"))
    [post] = posts_after_sentinel(fake_slack, expected=1)
    assert post.body["channel"] == "CALLOWED"
    assert all(c.body["channel"] != "COTHER" for c in fake_slack.calls_to("reactions.add"))


def test_bot_messages_and_its_own_get_no_reply(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    other_bot = dm_event(PILLARS)
    other_bot["event"] |= {"bot_id": "BOTHER", "subtype": "bot_message"}
    bot_mention = app_mention_event(f"<@UBOT> {PILLARS}", user="UOTHERBOT")
    bot_mention["event"]["bot_id"] = "BOTHER"
    own = dm_event(PILLARS, user="UBOT")
    own["event"]["bot_id"] = "BBOT"
    for body in (other_bot, bot_mention, own):
        fake_slack.send_envelope("events_api", body)
    assert posts_after_sentinel(fake_slack, expected=0) == []


def test_channel_ping_in_a_question_is_escaped(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    form = slash_command_form(COMMAND, f"<!channel> <@U2> a<b & {PILLARS}", response_url=fake_slack.response_url())
    assert signed_post(url, encode_form(form), SECRET, content_type=FORM)[0] == 200
    [reply] = fake_slack.wait_for_call("response/r1", timeout=5)
    shown = text_of(reply)
    assert "<!channel>" not in shown and "<@U2>" not in shown
    assert "asked: @channel @U2 a&lt;b &amp; What pillars" in shown


def test_bad_signature_or_stale_timestamp_gets_401_and_no_reply(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    raw = json.dumps(app_mention_event(f"<@UBOT> {PILLARS}")).encode()
    assert signed_post(url, raw, "not-the-secret")[0] == 401
    assert signed_post(url, raw, SECRET, timestamp=int(time.time()) - 600)[0] == 401
    time.sleep(0.3)
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.calls_to("reactions.add") == []


def test_an_error_while_answering_gives_an_apology_and_no_details(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    class BrokenAnswerer:
        def ask(self, question: str, k: int | None = None) -> Answer:
            raise RuntimeError("index file /srv/secret/index.faiss is corrupt")

    socket_app(custom_answerer=BrokenAnswerer())
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", ts="1700.000800"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert post.body["thread_ts"] == "1700.000800" and text_of(post).startswith(APOLOGY)
    assert "secret" not in text_of(post) and "RuntimeError" not in text_of(post)
    fake_slack.wait_for_call("reactions.remove")


def test_a_rejected_reply_still_gets_an_apology(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.script("chat.postMessage", body={"ok": False, "error": "invalid_blocks"})
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [_, apology] = fake_slack.wait_for_call("chat.postMessage", count=2, timeout=5)
    assert apology.body["text"] == APOLOGY


def test_empty_mention_gets_a_hint(fake_slack: FakeSlack, socket_app: MakeApp) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event("<@UBOT>"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    assert "Ask me a question" in text_of(post)


# -- Slash command, share, feedback ----------------------------------------------------------------


def test_slash_command_answers_privately_and_share_posts_it_in_channel(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app())
    form = slash_command_form(COMMAND, PILLARS, user_id="U5", response_url=fake_slack.response_url("cmd"))
    started = time.monotonic()
    status, _, body = signed_post(url, encode_form(form), SECRET, content_type=FORM)
    assert (status, body) == (200, b"") and time.monotonic() - started < 3
    [reply] = fake_slack.wait_for_call("response/cmd", timeout=5)
    assert reply.body["response_type"] == "ephemeral" and "three pillars" in text_of(reply)
    assert "<@U5> asked: What pillars" in text_of(reply)
    assert fake_slack.calls_to("chat.postMessage") == []
    answer_id = buttons(reply)[SHARE]

    click = block_action_payload(SHARE, answer_id, user="U5", response_url=fake_slack.response_url("share"))
    assert signed_post(url, encode_payload(click), SECRET, content_type=FORM)[0] == 200
    [shared, deleted] = fake_slack.wait_for_call("response/share", count=2, timeout=5)
    assert shared.body["response_type"] == "in_channel" and "three pillars" in text_of(shared)
    assert "<@U5> asked: What pillars" in text_of(shared)
    assert set(buttons(shared)) == {HELPFUL, NOT_HELPFUL}
    assert deleted.body["delete_original"] is True  # the private copy goes away


def test_slash_command_in_a_disallowed_channel_says_so(
    fake_slack: FakeSlack, make_app: MakeApp, bolt_http: Callable[[App], str]
) -> None:
    url = bolt_http(make_app(allowed_channels=["CALLOWED"]))
    form = slash_command_form(COMMAND, PILLARS, channel_id="COTHER", response_url=fake_slack.response_url())
    signed_post(url, encode_form(form), SECRET, content_type=FORM)
    [reply] = fake_slack.wait_for_call("response/r1", timeout=5)
    assert "does not answer in this channel" in reply.body["text"] and "three pillars" not in text_of(reply)


def test_helpful_click_is_stored_with_the_answer(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", app_mention_event(f"<@UBOT> {PILLARS}", channel="C9"))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    click = block_action_payload(
        HELPFUL, buttons(post)[HELPFUL], user="U7", channel="C9", response_url=fake_slack.response_url("vote")
    )
    envelope = fake_slack.send_envelope("interactive", click)
    fake_slack.wait_for_ack(envelope)
    [thanks] = fake_slack.wait_for_call("response/vote", timeout=5)
    assert thanks.body["response_type"] == "ephemeral" and "Thanks" in thanks.body["text"]
    [vote] = stored_votes(store.db)
    assert (vote["vote"], vote["user"], vote["channel"], vote["question"]) == ("helpful", "U7", "C9", PILLARS)
    assert vote["passage_ids"] and vote["passage_ids"][0].startswith("united-states/key-policies.md#")
    assert vote["index_version"] and "three pillars" in vote["answer"]


def test_not_helpful_opens_a_modal_whose_correction_is_stored(
    fake_slack: FakeSlack, socket_app: MakeApp, store: FeedbackStore
) -> None:
    socket_app()
    fake_slack.send_envelope("events_api", dm_event(PILLARS))
    [post] = fake_slack.wait_for_call("chat.postMessage", timeout=5)
    answer_id = buttons(post)[NOT_HELPFUL]
    fake_slack.send_envelope("interactive", block_action_payload(NOT_HELPFUL, answer_id, trigger_id="trig-1"))
    [opened] = fake_slack.wait_for_call("views.open", timeout=5)
    view = opened.body["view"]
    assert opened.body["trigger_id"] == "trig-1" and view["callback_id"] == FEEDBACK_MODAL
    assert [b.get("block_id") for b in view["blocks"]][1:] == ["correct_answer", "correct_source"]
    submission = view_submission_payload(
        FEEDBACK_MODAL,
        view["private_metadata"],
        {
            "correct_answer": {"value": "innovation, talent, business climate"},
            "correct_source": {"value": "Capturing Domestic Competitive Advantage"},
        },
    )
    envelope = fake_slack.send_envelope("interactive", submission)
    assert fake_slack.wait_for_ack(envelope) == {"envelope_id": envelope}  # the modal closes
    report = store.report()
    assert report.not_helpful == 1 and report.worst == [(PILLARS, 1)]
    [correction] = report.corrections
    assert correction.right_answer == "innovation, talent, business climate"
    assert correction.right_source == "Capturing Domestic Competitive Advantage"
