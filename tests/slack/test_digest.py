"""The change digest of a new index version is posted once, however many replicas switch to it."""

from __future__ import annotations

from pathlib import Path

from slack_sdk import WebClient

from bot.slack.digest import digest_claims, digest_poster
from bot.state.database import Database, parse_url
from bot.state.migrations import migrate
from tests.slack.fakeslack import FakeSlack


def shared(path: Path, replicas: bool = True) -> Database:
    """One replica's handle on the state database (shared by replicas when `state.url` is set)."""
    db = Database(parse_url(str(path), path.parent), shared=replicas)
    migrate(db)
    return db


def test_three_replicas_post_each_version_once(fake_slack: FakeSlack, web_client: WebClient, tmp_path: Path) -> None:
    replicas = [digest_poster(web_client, "CCHANGES", digest_claims(shared(tmp_path / "state.sqlite3"))) for _ in "abc"]
    for post in replicas:
        assert post is not None
        post("v1", "v2", "2 documents changed")
    for post in replicas:
        assert post is not None
        post("v2", "v3", "1 document added")
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p.body["text"].splitlines()[-1] for p in posts] == ["2 documents changed", "1 document added"]
    assert {p.body["channel"] for p in posts} == {"CCHANGES"}


def test_one_bot_without_a_shared_database_posts_each_version(
    fake_slack: FakeSlack, web_client: WebClient, tmp_path: Path
) -> None:
    post = digest_poster(web_client, "CCHANGES", digest_claims(shared(tmp_path / "a.sqlite3", replicas=False)))
    assert post is not None and digest_poster(web_client, "", digest_claims(shared(tmp_path / "b.sqlite3"))) is None
    post("v1", "v2", "changed")
    post("v1", "v2", "changed")  # the reloader told twice about one switch
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
