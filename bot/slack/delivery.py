"""Send to Slack and check that it arrived: retries where Slack says to, and one log line with Slack's error code.

Every Web API client (`retry_handlers`) and every response_url post (`respond_checked`) waits out a
429's Retry-After, retries a 5xx with backoff and a dropped connection once, using slack_sdk's own
RetryHandler classes. bolt's `respond()` returns a response_url's errors without raising, so
`respond_checked` reads the reply and says whether Slack took the message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3  # each waits Retry-After (+ up to 1 s)
SERVER_ERROR_RETRIES = 2  # after 0.5 s, then 1 s
RESPONSE_URL_TIMEOUT = 10  # seconds for one response_url post


class ServerErrors(ServerErrorRetryHandler):
    """slack_sdk's 5xx handler, for 502 and 504 (a gateway in front of Slack) as well as 500 and 503."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def retry_handlers() -> list[RetryHandler]:
    """A dropped connection once, a 429 after its Retry-After, a 5xx with backoff: for WebClient and WebhookClient."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrors(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=BackoffRetryIntervalCalculator(0.5)),
    ]


def slack_error(exc: BaseException) -> str:
    """Slack's error code for a failed call (`not_in_channel`, `ratelimited`...), or the exception's type."""
    if isinstance(exc, SlackApiError):
        return f"{exc.response.get('error')} (HTTP {exc.response.status_code})"
    return type(exc).__name__


def respond_checked(respond: Respond, what: str, **message: Any) -> bool:
    """Post `message` to the request's response_url, with retries; True when Slack took it, else logged."""
    if not respond.response_url:
        log.warning("cannot send %s: the request carried no response_url", what)
        return False
    client = WebhookClient(
        respond.response_url,
        timeout=RESPONSE_URL_TIMEOUT,
        proxy=respond.proxy,
        ssl=respond.ssl,
        retry_handlers=retry_handlers(),
    )
    try:
        response = client.send_dict({k: v for k, v in message.items() if v is not None})
    except Exception as exc:
        log.warning("sending %s to its response_url failed: %s", what, type(exc).__name__)
        return False
    if response.status_code == 200 and _ok(response.body):
        return True
    log.warning("Slack refused %s on its response_url: %s (HTTP %d)", what, _error(response.body), response.status_code)
    return False


def _ok(body: str) -> bool:
    """A response_url answers "ok" (text) or {"ok": true} (JSON)."""
    text = body.strip()
    if not text.startswith("{"):
        return text in ("ok", "")
    try:
        return bool(json.loads(text).get("ok"))
    except ValueError:
        return False


def _error(body: str) -> str:
    try:
        return str(json.loads(body).get("error") or body[:80])
    except (ValueError, AttributeError):
        return body.strip()[:80] or "no reason given"
