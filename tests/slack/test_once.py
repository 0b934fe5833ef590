"""The replay cache: a signed request is claimed in the state database, so a restart still refuses its replay."""

from __future__ import annotations

from pathlib import Path

from bot.slack.once import Once
from bot.state.connect import open_feedback_file

SIGNATURE = "v0=" + "ab" * 32


def test_a_replayed_signature_is_refused_after_a_restart_of_a_single_bot(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"  # the default state: slack.feedback_db, no state.url
    before = open_feedback_file(path)
    assert Once.kept_in(before).signature(SIGNATURE)
    before.close()
    after = open_feedback_file(path)  # the restarted bot opens the same file
    assert not Once.kept_in(after).signature(SIGNATURE)
    assert Once.kept_in(after).signature("v0=" + "cd" * 32)  # another request is still new
