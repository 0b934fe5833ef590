"""Answer each Slack event once, whatever Slack or the network repeats.

Slack retries an event it thinks went unanswered (X-Slack-Retry-Num), may deliver one event to two
replicas, and sends a mention inside a thread both as `app_mention` and as `message`; a signed
HTTP request can be sent again by anyone who captured it. Each repeat is dropped here:

- `skip_repeated_deliveries` (bolt middleware): an event_id claimed before, or a retry of a message
  the feedback store says was answered (even by a process since restarted), is acknowledged with
  X-Slack-No-Retry and goes no further;
- `Once.message`: the listeners answer a message only when they are the first to claim it;
- `Once.signature`: bot/slack/http_server.py acknowledges a replayed signed request and drops it.

With `Once.kept_in(db)` (what `serve` uses) signatures, event ids and messages are all claimed in
the state database (`SharedKeys`), the default `slack.feedback_db` file included, so a replay, a
retry or an edited message is refused even after a restart, and across replicas sharing `state.url`;
`Once()` alone keeps them in this process (`RecentKeys`). Both are in bot/state/claims.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from bot.state.claims import Claims, RecentKeys, SharedKeys
from bot.state.database import Database
from bot.state.deadline import within
from bot.state.feedback import FeedbackStore

log = logging.getLogger(__name__)

EVENT_CLAIM_SECONDS = 3600  # an event id is claimed this long: Slack's last retry comes within ~5 minutes
MESSAGE_CLAIM_SECONDS = 14 * 24 * 3600  # a message is answered once for two weeks, edits and restarts included
REPLAY_WINDOW = 6 * 60  # a signature is remembered a little longer than the 5 minutes its timestamp is valid
ANSWERED_DEADLINE = 0.5  # seconds the check for an answered retry may take: it comes before the 3 s ack
SIGNATURES_IN_MEMORY = 200_000  # signed requests one process remembers (each a short string)


def _recent_events() -> Claims:
    return RecentKeys(ttl=EVENT_CLAIM_SECONDS)


def _recent_signatures() -> Claims:
    return RecentKeys(ttl=REPLAY_WINDOW, size=SIGNATURES_IN_MEMORY)


@dataclass
class Once:
    """The claims: event ids and messages in `events`, signed HTTP requests in `signatures`.

    >>> once = Once()
    >>> once.message("C1", "1700.1"), once.message("C1", "1700.1")
    (True, False)
    """

    events: Claims = field(default_factory=_recent_events)
    signatures: Claims = field(default_factory=_recent_signatures)
    messages: Claims | None = None  # None: kept with `events`

    @classmethod
    def kept_in(cls, db: Database) -> Once:
        """Everything in `db` (the `slack.feedback_db` file by default, shared by replicas with `state.url`),
        so a replayed request, a retried event and an edited or re-sent message are refused after a
        restart too; messages are remembered for MESSAGE_CLAIM_SECONDS (Slack re-sends an edited one)."""
        return cls(
            SharedKeys(db, "event", EVENT_CLAIM_SECONDS),
            SharedKeys(db, "signature", REPLAY_WINDOW, size=SIGNATURES_IN_MEMORY),
            SharedKeys(db, "message", MESSAGE_CLAIM_SECONDS),
        )

    def event(self, event_id: str) -> bool:
        """True for the first delivery of `event_id`, False for a retry or a duplicate."""
        return self.events.claim(f"event:{event_id}")

    def message(self, channel: str, message_ts: str) -> bool:
        """True once per message: a mention in a thread arrives both as app_mention and as message, and an
        edited message arrives again (with `edited`) under its first `ts`."""
        return (self.messages or self.events).claim(f"{channel}:{message_ts}")

    def signature(self, signature: str) -> bool:
        """True the first time a verified signature is seen; False for a replay of that request."""
        return self.signatures.claim(signature)


def skip_repeated_deliveries(once: Once, store: FeedbackStore) -> Callable[..., BoltResponse | None]:
    """Middleware: acknowledge a repeated delivery (same event_id, or a retry already answered) and stop."""

    def middleware(
        body: dict[str, Any], request: BoltRequest, next: Callable[[], BoltResponse | None]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            retry = _retry_num(request)
            event = body.get("event") or {}
            first = once.event(event_id)
            if first and retry >= 1 and event.get("channel") and event.get("ts"):
                first = not _answered(store, event["channel"], event["ts"])
            if not first:
                log.info("skipping a repeated delivery of event %s (retry %d)", event_id, retry)
                return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        return next()

    return middleware


def _answered(store: FeedbackStore, channel: str, ts: str) -> bool:
    """Whether a retried message was answered; when the store cannot say in time, answer it (better twice
    than never): this runs before the ack."""
    try:
        return within(ANSWERED_DEADLINE, lambda: store.answered_message(channel, ts, timeout=0.3), "an answered check")
    except Exception as exc:
        log.warning("cannot check whether message %s was answered (%s); answering it", ts, exc)
        return False


def _retry_num(request: BoltRequest) -> int:
    """X-Slack-Retry-Num as a number; Socket Mode sends "0" on first delivery."""
    values = request.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0
