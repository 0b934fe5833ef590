"""Post each newly published index's change digest to `slack.changes_channel`, once across replicas.

Every replica switches to the new index, so each would post it: the first to claim the version in
the shared state database (`SharedKeys`, namespace "digest") posts, the others stay quiet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot.slack.delivery import slack_error
from bot.slack.mrkdwn import escape
from bot.state.claims import Claims, RecentKeys, SharedKeys
from bot.state.database import Database

log = logging.getLogger(__name__)

DIGEST_CLAIM_SECONDS = 30 * 24 * 3600  # a version's digest is claimed for a month: versions are not republished

OnSwitch = Callable[[str, str, str], None]


def digest_claims(db: Database) -> Claims:
    """Claims shared by the replicas of `db` (`state.url` set), else this process's own."""
    if db.shared:
        return SharedKeys(db, "digest", DIGEST_CLAIM_SECONDS)
    return RecentKeys(ttl=DIGEST_CLAIM_SECONDS)


def digest_poster(client: WebClient, channel: str, claims: Claims) -> OnSwitch | None:
    """The reloader's `on_switch`: post the digest of a new version once, if `channel` is set."""
    if not channel:
        return None

    def post(old: str, new: str, digest: str) -> None:
        if not claims.claim(new):
            log.info("the change digest of index %s is posted by another replica", new)
            return
        text = f"PolicyBot's knowledge base was updated.\n{digest}"
        try:
            client.chat_postMessage(channel=channel, text=escape(text), unfurl_links=False)
        except Exception as exc:
            log.warning("posting the change digest of index %s to %s failed: %s", new, channel, slack_error(exc))

    return post
