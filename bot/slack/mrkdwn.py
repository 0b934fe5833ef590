"""Slack mrkdwn text: escape what we send, parse the tokens in what we receive.

>>> escape("<!channel> & <@U1>")
'&lt;!channel&gt; &amp; &lt;@U1&gt;'
>>> question_text("<@UBOT> What about <#C1|general> &amp; <https://x.org|x>?", bot_user_id="UBOT")
'What about #general & x?'
"""

from __future__ import annotations

import html
import re

_TOKEN = re.compile(r"<([^<>]*)>")
_SENTENCE_END = re.compile(r"[.!?…][\"”’)]*(?: ?\[\d+\])*(?=\s)")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters, so text cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def question_text(text: str, bot_user_id: str | None = None) -> str:
    """Plain text of an incoming message: mentions of the bot dropped, other tokens made readable, unescaped."""

    def readable(match: re.Match[str]) -> str:
        token = match.group(1)
        target, _, label = token.partition("|")
        if target.startswith("@"):
            return "" if target[1:] == bot_user_id else "@" + (label or target[1:]).lstrip("@")
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0]).lstrip("@")
        return label or target

    return " ".join(html.unescape(_TOKEN.sub(readable, text)).split())


def mentions(text: str, user_id: str) -> bool:
    """Whether raw Slack text mentions `user_id`."""
    return f"<@{user_id}>" in text or f"<@{user_id}|" in text


def trim_at_sentence(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` characters at the last sentence end (or word) that fits; (text, trimmed)."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head + " ")]
    cut = ends[-1] if ends and ends[-1] > limit // 3 else head.rfind(" ")
    return head[: cut if cut > 0 else limit].rstrip(), True
