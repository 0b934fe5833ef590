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
_ENTITY = re.compile(r"&(?:[a-z]{0,6}|#[0-9]{0,6})(?:;|$)")
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


def safe_cut(text: str, limit: int) -> int:
    """The largest cut point at most `limit` that splits neither a `<...>` token (a link, a mention) nor an
    `&...;` entity, so a cut message never shows half a link or a stray `&am`.

    >>> safe_cut("see <https://x.org|x> now", 10), safe_cut("R&amp;D", 3), safe_cut("abc", 10)
    (4, 1, 3)
    """
    if len(text) <= limit:
        return len(text)
    cut = max(0, limit)
    opened, closed = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
    if opened > closed:  # inside a token: cut before it
        cut = opened
    amp = text.rfind("&", 0, cut)
    if amp != -1 and ";" not in text[amp:cut] and _ENTITY.match(text, amp):
        cut = amp
    return cut


def trim_at_sentence(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` characters at the last sentence end (or word) that fits; (text, trimmed).

    The cut never splits a `<url|label>` link or an `&amp;` entity (`safe_cut`).
    """
    if len(text) <= limit:
        return text, False
    head = text[: safe_cut(text, limit)]
    ends = [m.end() for m in _SENTENCE_END.finditer(head + " ") if not _inside_token(head, m.end())]
    spaces = [i for i, c in enumerate(head) if c == " " and not _inside_token(head, i)]
    cut = ends[-1] if ends and ends[-1] > limit // 3 else (spaces[-1] if spaces else len(head))
    return head[: cut if cut > 0 else len(head)].rstrip(), True


def split_at_sentences(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, each cut as `trim_at_sentence` cuts.

    >>> split_at_sentences("One two. Three four. Five.", 12)
    ['One two.', 'Three four.', 'Five.']
    """
    pieces = []
    while len(text) > limit:
        head, _ = trim_at_sentence(text, limit)
        if not head:  # one unbreakable run longer than the limit
            head = text[: max(1, safe_cut(text, limit))]
        pieces.append(head)
        text = text[len(head) :].lstrip()
    return [*pieces, text] if text else pieces


def _inside_token(text: str, at: int) -> bool:
    return text.rfind("<", 0, at) > text.rfind(">", 0, at)
