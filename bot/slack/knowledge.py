"""What the bot knows, for Slack to show: suggested prompts from the knowledge base's sections, and the
App Home tab (documents, the index version and its date, how to ask). Pure functions of the index."""

from __future__ import annotations

from typing import Any

from bot.slack.mrkdwn import escape
from embeddings.index.changes import format_changes, version_changes
from embeddings.index.loaded import LoadedIndex

Block = dict[str, Any]

MAX_PROMPTS = 4  # Slack shows up to four suggested prompts
MAX_HOME_DOCUMENTS = 40  # a Home tab holds 100 blocks; one line per document, in sections of a few
PROMPT_TITLE_CHARS = 75


def suggested_prompts(index: LoadedIndex, limit: int = MAX_PROMPTS) -> list[dict[str, str]]:
    """One prompt per document (then per further section), in knowledge-base order: "title" and "message".

    Sections are the documents' headings, so each prompt asks about something the documents hold.
    """
    firsts: list[tuple[str, str]] = []
    rest: list[tuple[str, str]] = []
    seen_docs: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for passage in sorted(index.passages.values(), key=lambda p: (p.doc, p.position)):
        section = passage.section[-1] if passage.section else ""
        if not section or section == passage.title or (passage.doc, section) in seen:
            continue
        seen.add((passage.doc, section))
        (rest if passage.doc in seen_docs else firsts).append((passage.title, section))
        seen_docs.add(passage.doc)
    prompts = []
    for title, section in (firsts + rest)[:limit]:
        prompts.append({"title": _short(section), "message": f"What does {title} say about {section}?"})
    return prompts


def home_view(index: LoadedIndex) -> dict[str, Any]:
    """The App Home tab: how to ask, the documents known, the index version and its date, and its change digest
    (the one posted to `slack.changes_channel`), when the version has one."""
    changes = version_changes(index.path)
    last_digest = format_changes(changes) if changes else ""
    titles: dict[str, str] = {}
    for passage in sorted(index.passages.values(), key=lambda p: (p.doc, p.position)):
        titles.setdefault(passage.doc, passage.title)
    created = getattr(index.meta, "created", "") or "unknown"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "PolicyBot"}},
        _section(
            "Ask a question about the policy documents below: mention me in a channel, send me a direct "
            "message, open me as an assistant, or use `/policy` for an answer only you see. Every answer "
            "cites the passages it quotes."
        ),
        _section(f"*Knowledge base:* {len(titles)} documents, index `{escape(index.version)}` built {escape(created)}"),
    ]
    lines = [f"• {escape(title)}" for title in list(titles.values())[:MAX_HOME_DOCUMENTS]]
    if len(titles) > MAX_HOME_DOCUMENTS:
        lines.append(f"…and {len(titles) - MAX_HOME_DOCUMENTS} more")
    for start in range(0, len(lines), 20):
        blocks.append(_section("\n".join(lines[start : start + 20])))
    if last_digest:
        blocks.append(_section(f"*Last update*\n{escape(last_digest)[:2800]}"))
    return {"type": "home", "blocks": blocks}


def _short(text: str, limit: int = PROMPT_TITLE_CHARS) -> str:
    """`text` within `limit` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:(") + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
