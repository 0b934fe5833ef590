"""Block Kit for PolicyBot's Slack messages, built by pure functions from an `Answer`.

Everything taken from a question or a document is escaped, so it can neither ping nor link.
Messages stay inside Slack's limits by construction: at most 50 blocks, 3,000 characters per section,
11,000 characters of text in all (`answer_messages` continues the rest in further messages), and
cuts fall only between sentences or words, never inside a `<url|label>` link or an `&amp;` entity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot.answering.answer import Answer
from bot.config import SlackConfig
from bot.render.citations import group_by_source
from bot.render.paragraphs import paragraphs
from bot.slack.mrkdwn import escape, safe_cut, split_at_sentences, trim_at_sentence

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_MESSAGE_TEXT = 11_000  # all text in one message's blocks: Slack answers msg_blocks_too_long above about 12,000
MAX_ANSWER_CHARS: int = SlackConfig.model_fields["max_answer_chars"].default  # slack.max_answer_chars
MAX_FALLBACK_CHARS = 3000
HELPFUL = "feedback_helpful"
NOT_HELPFUL = "feedback_not_helpful"
SHARE = "share_answer"
FEEDBACK_MODAL = "feedback_correction"
APOLOGY = "Sorry, something went wrong while I was answering. It has been logged; please try again in a minute."
EMPTY_QUESTION = "Ask me a question in words, for example: _What pillars do the AMP recommendations rest on?_"
CONTINUED = "PolicyBot's answer, continued"  # the notification text of a continuation message
TRIMMED_NOTE = "_(Answer trimmed to fit Slack: the sources below hold the rest.)_"
_FRAGMENT_WORDS = 5


def answer_blocks(
    answer: Answer,
    max_chars: int = MAX_ANSWER_CHARS,
    answer_id: str | None = None,
    asked_by: str | None = None,
    shareable: bool = False,
) -> list[Block]:
    """The reply as one message: optional "asked" line, the answer with [n] markers, numbered sources, buttons.

    `answer_id` (the feedback store's id) adds "Helpful" / "Not helpful" buttons; `shareable` adds
    "Share in channel" (for ephemeral slash-command replies); `asked_by` is a user id to credit.
    An answer too long is trimmed at a sentence, with a note; sources that do not fit are left out.
    """
    return answer_messages(answer, max_chars, answer_id, asked_by, shareable, continued=False)[0]


def answer_messages(
    answer: Answer,
    max_chars: int = MAX_ANSWER_CHARS,
    answer_id: str | None = None,
    asked_by: str | None = None,
    shareable: bool = False,
    continued: bool = True,
) -> list[list[Block]]:
    """The reply as messages Slack accepts, each within MAX_BLOCKS blocks and MAX_MESSAGE_TEXT characters.

    The first holds the answer's start, as many sources as fit and the buttons; with `continued`, the
    rest of a long answer and the remaining sources follow, to be posted in the thread. Without it the
    answer is trimmed at a sentence, with a note, and the sources that do not fit are left out.
    """
    room = min(max_chars, MAX_SECTION_CHARS)
    text = _answer_text(answer)
    if continued:
        parts = split_at_sentences(text, room) or [text]
    else:
        trimmed, cut = trim_at_sentence(text, room - len(TRIMMED_NOTE) - 2) if len(text) > room else (text, False)
        parts = [f"{trimmed}\n{TRIMMED_NOTE}" if cut else trimmed]
    first: list[Block] = []
    if asked_by is not None:
        first.append(_context(f"<@{escape(asked_by)}> asked: {escape(answer.question)}"))
    if answer.reading_note:  # a follow-up read in the thread's context: shown, so a wrong guess can be corrected
        first.append(_context(escape(answer.reading_note)))
    first.append(_section(parts[0]))
    buttons = [action_buttons(answer_id, shareable)] if answer_id is not None else []
    heading = "*Nearest sources*" if answer.abstained else "*Sources*"
    sources = [_section(t) for t in _pack([heading, *source_lines(answer)])]
    while sources and _fits([*first, sources[0], *buttons]):
        first.append(sources.pop(0))
    messages = [[*first, *buttons]]
    if not continued:
        return messages
    messages += [[_section(part)] for part in parts[1:]]
    if sources:
        messages += _in_messages([_section("*Sources (continued)*"), *sources])
    return messages


def answer_mrkdwn(answer: Answer, max_chars: int = MAX_ANSWER_CHARS) -> str:
    """The answer as escaped mrkdwn, list items as bullets, trimmed at a sentence boundary if too long."""
    return str(next(b for b in answer_blocks(answer, max_chars) if b["type"] == "section")["text"]["text"])


def _answer_text(answer: Answer) -> str:
    if answer.abstained:
        return escape(answer.text)
    return escape("\n".join(f"• {p.text}" if p.bullet else p.text for p in paragraphs(answer.quotes)))


def message_text_length(blocks: Sequence[Block]) -> int:
    """What Slack counts against MAX_MESSAGE_TEXT: every `text` string in the blocks, however nested."""
    total = 0
    stack: list[Any] = list(blocks)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    stack.append(value)
    return total


def _fits(blocks: Sequence[Block]) -> bool:
    return len(blocks) <= MAX_BLOCKS and message_text_length(blocks) <= MAX_MESSAGE_TEXT


def _in_messages(blocks: list[Block]) -> list[list[Block]]:
    """`blocks` spread over as few messages as fit."""
    messages: list[list[Block]] = [[]]
    for block in blocks:
        if messages[-1] and not _fits([*messages[-1], block]):
            messages.append([])
        messages[-1].append(block)
    return messages


def fallback_text(answer: Answer) -> str:
    """Plain text for notifications and screen readers (the `text` beside `blocks`)."""
    return trim_at_sentence(escape(answer.text), MAX_FALLBACK_CHARS)[0]


def source_lines(answer: Answer) -> list[str]:
    """One mrkdwn line per source section: `[1] [2] <url|Title — Section, p. 3> · Publisher · Date`.

    Each [n] links to the quoted sentences of citation n on the web page (a text fragment), when
    the source is a web page.
    """
    quoted: dict[int, list[str]] = {}
    for q in answer.quotes:
        quoted.setdefault(q.citation, []).append(q.text)
    lines = []
    for group in group_by_source(answer.citations):
        source, title = group.source, escape(group.title)
        marks = " ".join(_marker(c.number, source, quoted.get(c.number, [])) for c in group.citations)
        name = (title if group.section == group.title else f"{title} — {escape(group.section)}") + group.page
        name = f"<{link_target(source)}|{name}>" if _is_web(source) else f"{name} (`{escape(source)}`)"
        lines.append(f"{marks} {name}" + "".join(f" · {escape(d)}" for d in group.details))
    return lines


def fragment_url(source: str, sentences: Sequence[str]) -> str:
    """`source` with a text fragment (`#:~:text=start,end`) that highlights the quoted sentences.

    >>> fragment_url("https://x.org/p", ["Three pillars - innovation, talent & climate."])
    'https://x.org/p#:~:text=Three%20pillars%20%2D%20innovation%2C%20talent%20%26%20climate.'
    >>> fragment_url("https://x.org/p", ["One two three four five six.", "Seven eight nine ten eleven."])
    'https://x.org/p#:~:text=One%20two%20three%20four%20five,Seven%20eight%20nine%20ten%20eleven.'
    """
    words = " ".join(sentences).split()
    if not _is_web(source) or not words:
        return source
    base = source.split("#", 1)[0]
    if len(words) <= 2 * _FRAGMENT_WORDS:
        return f"{base}#:~:text={_fragment_part(' '.join(words))}"
    start, end = " ".join(words[:_FRAGMENT_WORDS]), " ".join(words[-_FRAGMENT_WORDS:])
    return f"{base}#:~:text={_fragment_part(start)},{_fragment_part(end)}"


def action_buttons(answer_id: str, shareable: bool = False) -> Block:
    """ "Helpful" / "Not helpful" buttons (and "Share in channel"), each carrying the stored answer's id."""
    elements = [
        _button("👍 Helpful", HELPFUL, answer_id),
        _button("👎 Not helpful", NOT_HELPFUL, answer_id),
    ]
    if shareable:
        elements.insert(0, {**_button("Share in channel", SHARE, answer_id), "style": "primary"})
    return {"type": "actions", "block_id": "policybot_actions", "elements": elements}


def without_actions(blocks: Sequence[Block]) -> list[Block]:
    """The blocks of a stored reply minus its buttons, e.g. to share it with fresh ones."""
    return [b for b in blocks if b.get("type") != "actions"]


def feedback_modal(answer_id: str, question: str) -> Block:
    """The "Not helpful" modal: optionally, what the right answer or source would have been."""
    return {
        "type": "modal",
        "callback_id": FEEDBACK_MODAL,
        "private_metadata": answer_id,
        "title": {"type": "plain_text", "text": "PolicyBot feedback"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            _section(f"Thanks — noted as not helpful:\n>{_clip(escape(question), 2900)}"),
            _input("correct_answer", "What would the right answer have been?", multiline=True),
            _input("correct_source", "Which document or section should it have cited?", multiline=False),
        ],
    }


def notice_blocks(text: str) -> list[Block]:
    """A one-section message (an apology, a hint); `text` is mrkdwn the caller has escaped."""
    return [_section(text)]


def _marker(number: int, source: str, sentences: list[str]) -> str:
    if _is_web(source) and sentences:
        return f"<{link_target(fragment_url(source, sentences))}|[{number}]>"
    return f"[{number}]"


def link_target(url: str) -> str:
    """`url` made safe inside `<url|label>`: escaped, and a `|` or white space in it percent-encoded,
    so a document's URL cannot carry a label of its own (`https://evil|Official report`).

    >>> link_target("https://evil.example/x|Official report")
    'https://evil.example/x%7COfficial%20report'
    """
    return re.sub(r"\s", lambda m: quote(m.group()), escape(url)).replace("|", "%7C")


def _fragment_part(text: str) -> str:
    """Percent-encode for a text fragment: the spec reserves `-`, `,` and `&` as well."""
    return quote(text, safe="").replace("-", "%2D")


def _is_web(source: str) -> bool:
    return bool(re.match(r"https?://", source, re.IGNORECASE))


def _pack(lines: list[str]) -> list[str]:
    """Join lines into as few texts as fit in a section each."""
    texts: list[str] = []
    for line in lines:
        line = _clip(line, MAX_SECTION_CHARS)
        if texts and len(texts[-1]) + 1 + len(line) <= MAX_SECTION_CHARS:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a safe point (never inside a link or an entity)."""
    return text if len(text) <= limit else text[: safe_cut(text, limit)]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION_CHARS)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, MAX_SECTION_CHARS)}]}


def _button(label: str, action_id: str, value: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _input(block_id: str, label: str, multiline: bool) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": 2000},
    }
