"""Tell a saved web page with real text from one without: a menu left after extraction, or an error page.

The rule, for HTML pages only (Markdown, text and PDFs are kept however short):
- an **error page** is one whose title, or one of its first three lines, *is* an error phrase
  ("404 Not Found", "Error 403", "Page not found | Ministry", "Access Denied"), alone or before a
  "| Site" separator, and whose text is under 80 words; "Access denied: how to appeal" is kept;
- a **navigation-only** page is one where no line (paragraph, list item, heading) holds five words
  or more, and there is no table: "Home / About us / News" goes, "The office is closed on Fridays." stays.

>>> no_real_text("# 404 Not Found\\n\\nnginx", "404 Not Found")
"looks like an error page ('404 Not Found'), not a document; fetch it again (a failed download?)"
>>> no_real_text("Home\\nAbout us\\nNews", "Ministry")
"has no main text, only short lines like navigation ('Home', 'About us', 'News'); save the article itself"
>>> no_real_text("# Office hours\\n\\nThe grants office is closed on Fridays.", "Office hours") is None
True
"""

from __future__ import annotations

import re

ERROR_PAGE_MAX_WORDS = 80
MIN_LINE_WORDS = 5

_PHRASE = (
    r"(?:(?:the\s+)?(?:page|file|document|resource)\s+(?:was\s+)?not\s+found|not\s+found|access\s+denied"
    r"|forbidden|unauthori[sz]ed|bad\s+request|internal\s+server\s+error|service\s+(?:temporarily\s+)?unavailable"
    r"|bad\s+gateway|gateway\s+time-?out|too\s+many\s+requests|request\s+rejected"
    r"|page\s+(?:unavailable|does\s+not\s+exist))"
)
_CODE = r"(?:(?:http\s+)?error\s*)?[45]\d\d(?:\s+error)?"
_ERROR_TITLE = re.compile(  # the whole line, or before a "| Site name"
    rf"\A\s*(?:{_CODE}(?:\s*[-:–—.]?\s*{_PHRASE})?|(?:error\s*[-:]?\s*)?{_PHRASE})"
    r"\s*[.!]?\s*(?:\Z|[|\-–—·•])",
    re.IGNORECASE,
)
_FETCH_AGAIN = "not a document; fetch it again (a failed download?)"
_WORD = re.compile(r"\w+")


def no_real_text(body: str, title: str | None) -> str | None:
    """Why an HTML page's extracted `body` is not worth indexing (the reason for `DocumentError`), or None."""
    lines = [line.strip().lstrip("#").strip() for line in body.splitlines() if line.strip()]
    words = len(_WORD.findall(body))
    if words < ERROR_PAGE_MAX_WORDS:
        for candidate in [title or "", *lines[:3]]:
            if _ERROR_TITLE.match(candidate):
                return f"looks like an error page ({candidate.strip()!r}), {_FETCH_AGAIN}"
    if any(line.startswith("|") for line in lines):  # a table is real content, however terse its cells
        return None
    if not any(len(_WORD.findall(line)) >= MIN_LINE_WORDS for line in lines):
        sample = ", ".join(repr(line) for line in dict.fromkeys(lines[:3]))
        return f"has no main text, only short lines like navigation ({sample}); save the article itself"
    return None
