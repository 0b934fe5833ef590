"""Hypothesis settings and text strategies shared by the property tests: text that trips parsers."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with everything that trips parsers: control characters, surrogate-free Unicode, Markdown syntax.
MARKDOWN_BITS = st.sampled_from(
    ["#", "##", "> ", "- ", "* ", "1. ", "```", "    ", "\n", "\n\n", "---", "|", "<div>", "[x](y)", "**", ":", ". "]
)
any_text = st.text(st.characters(codec="utf-8"), max_size=400)
markdownish = st.lists(st.one_of(MARKDOWN_BITS, any_text), max_size=40).map("".join)


def nested_markdown(depth: int) -> str:
    """Quotes inside list items inside quotes..., `depth` levels deep, then a sentence."""
    prefix = "".join("> " if level % 2 else "- " for level in range(depth))
    return f"# Title\n\n{prefix}Deep sentence one. Deep sentence two.\n"
