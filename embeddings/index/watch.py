"""`policybot index --watch`: re-index whenever the knowledge folder changes, after edits settle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

from embeddings.errors import PolicyBotError

log = logging.getLogger(__name__)


def watch_and_index(
    knowledge_dir: Path,
    reindex: Callable[[], object],
    debounce_ms: int,
    stop: threading.Event | None = None,
    on_error: Callable[[PolicyBotError], None] | None = None,
) -> None:
    """Call `reindex` after each burst of changes under `knowledge_dir` until `stop` is set
    (or Ctrl-C). A failing run is reported and watching goes on: the next edit may fix it."""
    for changes in watch(knowledge_dir, debounce=debounce_ms, stop_event=stop, raise_interrupt=False):
        log.info("%d change(s) in %s: re-indexing", len(changes), knowledge_dir)
        try:
            reindex()
        except PolicyBotError as exc:
            if on_error is None:
                raise
            on_error(exc)
