"""The Slack reply as users see it: cited, escaped, linked to the quoted sentence, inside Slack's limits."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering.answer import Answer, Citation, Quote
from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_CHARS,
    TRIMMED_NOTE,
    answer_blocks,
    answer_messages,
    fallback_text,
    feedback_modal,
    fragment_url,
    message_text_length,
)
from bot.slack.mrkdwn import escape, question_text, split_at_sentences, trim_at_sentence
from embeddings.passage import Passage
from tests.slack.fakeslack import FakeSlack

URL = "https://example.org/policy"


def passage(text: str, section: tuple[str, ...] = ("Energy",), source: str = URL, n: int = 0) -> Passage:
    return Passage(
        id=n,
        key=f"doc.md#{n}",
        doc="doc.md",
        title="Key Policies",
        section=section,
        text=text,
        source=source,
        position=n,
        metadata={"publisher": "CSTI & Cambridge"},
    )


def answer_of(*quotes: tuple[str, Passage], question: str = "What about energy?") -> Answer:
    citations, quoted, numbers = [], [], {}
    for text, p in quotes:
        if p.key not in numbers:
            numbers[p.key] = len(numbers) + 1
            citations.append(Citation(numbers[p.key], p, 0.8))
        quoted.append(Quote(text, numbers[p.key]))
    return Answer(question, tuple(quoted), tuple(citations), abstained=False, index_version="v1")


def all_text(blocks: list[dict]) -> str:
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def test_answer_shows_markers_then_numbered_sources_then_feedback_buttons() -> None:
    p = passage("Energy policy is central. It backs renewables.")
    blocks = answer_blocks(answer_of(("Energy policy is central.", p)), answer_id="a1")
    assert blocks[0]["text"]["text"] == "Energy policy is central. [1]"
    assert blocks[1]["text"]["text"].startswith("*Sources*\n<https://example.org/policy#:~:text=")
    assert "|Key Policies — Energy> · CSTI &amp; Cambridge" in blocks[1]["text"]["text"]
    buttons = blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["👍 Helpful", "👎 Not helpful"]
    assert {b["value"] for b in buttons} == {"a1"}


def test_source_link_jumps_to_the_quoted_sentence() -> None:
    sentence = "Three pillars – enabling innovation, securing talent & improving the climate-change plan."
    p = passage(f"Intro. {sentence}")
    [marker_link] = [
        part
        for part in answer_blocks(answer_of((sentence, p)))[1]["text"]["text"].split("<")
        if part.startswith(URL + "#")
    ]
    url = marker_link.split("|")[0].replace("&amp;", "&")
    fragment = url.split("#:~:text=")[1]
    start, end = fragment.split(",")
    assert unquote(start) == "Three pillars – enabling innovation,"
    assert unquote(end) == "& improving the climate-change plan."
    assert "-" not in fragment and "&" not in fragment  # reserved in text fragments: percent-encoded


def test_short_quote_fragment_is_the_whole_sentence() -> None:
    assert fragment_url(URL, ["Energy policy is central."]) == URL + "#:~:text=Energy%20policy%20is%20central."


def test_local_sources_get_no_link() -> None:
    p = passage("A rule. Another.", source="knowledge/rules.md")
    text = answer_blocks(answer_of(("A rule.", p)))[1]["text"]["text"]
    assert "[1] Key Policies — Energy (`knowledge/rules.md`)" in text
    assert "<" not in text


def test_citations_of_one_section_share_a_source_line() -> None:
    a, b = passage("First. Second.", n=1), passage("Third. Fourth.", n=2)
    lines = answer_blocks(answer_of(("First.", a), ("Third.", b)))[1]["text"]["text"].split("\n")
    assert len(lines) == 2 and "|[1]> <" in lines[1] and "|[2]>" in lines[1]


@pytest.mark.parametrize("evil", ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|click me>"])
def test_nothing_in_a_question_or_passage_can_ping_or_link(evil: str) -> None:
    p = passage(f"Energy matters {evil} a lot. More.", section=(f"Section {evil}",))
    answer = answer_of((f"Energy matters {evil} a lot.", p), question=f"energy {evil}?")
    blocks = answer_blocks(answer, answer_id="a1", asked_by="U9")
    text = all_text(blocks)
    assert evil not in text
    assert escape(evil) in blocks[1]["text"]["text"] and escape(evil) in blocks[2]["text"]["text"]
    assert evil not in fallback_text(answer)
    assert evil not in str(feedback_modal("a1", answer.question))


def test_asked_by_line_credits_the_user_and_escapes_the_question() -> None:
    blocks = answer_blocks(answer_of(("x.", passage("x. y."))), asked_by="U9")
    assert blocks[0]["elements"][0]["text"] == "<@U9> asked: What about energy?"


def test_long_answer_is_trimmed_at_a_sentence_with_a_pointer_to_the_sources() -> None:
    sentences = [f"Sentence number {i} says something about policy." for i in range(200)]
    p = passage(" ".join(sentences))
    answer = answer_of(*[(s, p) for s in sentences])
    text = answer_blocks(answer, max_chars=2500)[0]["text"]["text"]
    assert len(text) <= 2500
    body, note = text.rsplit("\n", 1)
    assert note == TRIMMED_NOTE
    assert body.endswith("policy. [1]")


def many_sources_answer() -> Answer:
    """80 quotes from 80 sections with 500-character names: some 50 KB of sources, far over one message."""
    quotes = [
        (f"Fact {i}.", passage(f"Fact {i}. " + "word " * 400, section=(f"S{i} " + "x" * 500,), n=i)) for i in range(80)
    ]
    return answer_of(*quotes)


def test_every_message_fits_slacks_limits_however_many_sources() -> None:
    messages = answer_messages(many_sources_answer(), max_chars=3000, answer_id="a1")
    assert len(messages) > 1  # the sources go on in the thread
    for blocks in messages:
        assert len(blocks) <= MAX_BLOCKS and message_text_length(blocks) <= MAX_MESSAGE_TEXT
        assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in blocks if b["type"] == "section")
    assert messages[0][-1]["type"] == "actions" and all(b["type"] != "actions" for m in messages[1:] for b in m)
    shown = "\n".join(all_text(m) for m in messages)
    assert all(f"[{n}]" in shown for n in range(1, 81))  # every source is listed somewhere


def test_slack_accepts_every_message_of_a_long_reply(fake_slack: FakeSlack, web_client: WebClient) -> None:
    for blocks in answer_messages(many_sources_answer(), max_chars=3000, answer_id="a1"):
        assert web_client.chat_postMessage(channel="C1", text="answer", blocks=blocks)["ok"]
    with pytest.raises(SlackApiError) as refused:  # what one message holding it all got
        blocks = [b for m in answer_messages(many_sources_answer(), max_chars=3000, answer_id="a1") for b in m]
        web_client.chat_postMessage(channel="C1", text="answer", blocks=blocks[:MAX_BLOCKS])
    assert refused.value.response["error"] == "msg_blocks_too_long"


def test_a_long_answer_continues_in_later_messages_without_losing_a_word() -> None:
    sentences = [f"Sentence number {i} says something about R&D & policy." for i in range(200)]
    p = passage(" ".join(sentences))
    messages = answer_messages(answer_of(*[(s, p) for s in sentences]), max_chars=2500)
    parts = [messages[0][0]["text"]["text"]] + [m[0]["text"]["text"] for m in messages[1:] if "Sources" not in str(m)]
    assert all(len(part) <= 2500 for part in parts) and len(parts) > 3
    assert " ".join(parts).split() == escape(" ".join(f"{s} [1]" for s in sentences)).split()


def test_cuts_never_split_a_link_or_an_entity() -> None:
    url = "https://example.org/" + "a-b" * 40
    lines = [f"<{url}|Title {i} &amp; more>" for i in range(200)]
    for limit in range(2800, 3000):  # every cut point across a whole line, near a section's limit
        for text in (trim_at_sentence(" &amp; ".join(lines), limit)[0], split_at_sentences("&amp;" * 1000, limit)[0]):
            assert text.count("<") == text.count(">")
            assert all(chunk.startswith(("amp;", "lt;", "gt;")) for chunk in text.split("&")[1:])


def test_abstention_says_the_knowledge_base_does_not_cover_it_and_lists_nearest_sources() -> None:
    p = passage("Energy policy is central.")
    answer = Answer("How do I bake bread?", (), (Citation(1, p, 0.1),), abstained=True, reason="no match")
    blocks = answer_blocks(answer)
    assert "does not cover this question" in blocks[0]["text"]["text"]
    assert blocks[1]["text"]["text"].startswith("*Nearest sources*\n[1] <https://example.org/policy|")


def test_incoming_mentions_and_links_become_plain_question_text() -> None:
    raw = "<@UBOT> what does <#C1|energy> say about R&amp;D &lt;2012&gt; <https://x.org|this> <!here>?"
    assert question_text(raw, "UBOT") == "what does #energy say about R&D <2012> this @here?"


def test_trim_prefers_sentence_end_then_word() -> None:
    assert trim_at_sentence("One two. Three four five six.", 20) == ("One two.", True)
    assert trim_at_sentence("short", 20) == ("short", False)


def test_list_items_become_bullets_on_their_own_lines() -> None:
    p = passage("Two goals: growth and skills.")
    answer = answer_of(("Two goals:", p), ("Growth.", p), ("Skills.", p))
    listed = Answer(
        answer.question,
        tuple(Quote(q.text, q.citation, i > 0) for i, q in enumerate(answer.quotes)),
        answer.citations,
        False,
    )
    assert answer_blocks(listed)[0]["text"]["text"] == "Two goals: [1]\n• Growth. [1]\n• Skills. [1]"
