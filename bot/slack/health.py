"""Health endpoints for a load balancer or an orchestrator, in front of the Slack handler.

- `GET /healthz`: 200 while the process serves requests at all (liveness);
- `GET /readyz`: 200 when it can answer (the index loaded, the state database reachable), else 503
  with what is missing, one item a line (readiness: send no traffic here yet, or any more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.answering.answerer import Answerer
from bot.state.database import Database
from bot.state.deadline import within

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
CHECK_SECONDS = 0.5  # a probe's database check waits this long: probes time out after about a second

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class HealthRoutes:
    """A WSGI app: /healthz and /readyz here, every other path to `app`."""

    def __init__(self, app: WSGIApp, ready: Callable[[], list[str]]) -> None:
        self.app = app
        self.ready = ready

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path not in (HEALTH_PATH, READY_PATH) or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        problems = [] if path == HEALTH_PATH else self.ready()
        text = "ok\n" if not problems else "".join(f"{p}\n" for p in problems)
        status = "200 OK" if not problems else "503 Service Unavailable"
        body = text.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(status, [*headers, ("Cache-Control", "no-store")])
        return [b""] if method == "HEAD" else [body]


def readiness(answerer: Answerer, db: Database | None) -> Callable[[], list[str]]:
    """What `/readyz` checks: an index is loaded with passages in it, and the state database answers."""

    def problems() -> list[str]:
        found = []
        try:
            index = answerer.retriever.index
            if not index.passages:
                found.append(f"index {index.version} holds no passages")
        except Exception as exc:
            found.append(f"no index loaded ({type(exc).__name__})")
        if db is not None:
            try:
                within(CHECK_SECONDS, lambda: _ping(db), "the readiness check")
            except Exception as exc:
                found.append(f"state database {db.url.redacted()} unreachable: {exc}")
        return found

    return problems


def _ping(db: Database) -> None:
    with db.transaction(timeout=CHECK_SECONDS) as tx:
        tx.execute("SELECT 1 AS one").fetchone()
