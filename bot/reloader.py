"""Pick up a newly published index while the bot runs: no restart, no moment where questions fail."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from bot.config import Settings
from embeddings.changes import format_changes
from embeddings.errors import IndexError_
from embeddings.index_files import check_compatible, current_version_name, load_index, version_changes
from embeddings.retrieval import Retriever

log = logging.getLogger(__name__)

OnSwitch = Callable[[str, str, str], None]  # (old version, new version, change digest as text)


class IndexReloader:
    """Polls `index/CURRENT`; a new version is loaded and warmed beside the old one, then swapped in.

    Questions in flight keep the version they started with. A version that fails to load is
    logged once and the current one keeps serving.
    """

    def __init__(
        self, retriever: Retriever, settings: Settings, on_switch: OnSwitch | None = None, interval: float = 2.0
    ) -> None:
        self.retriever = retriever
        self.index_dir: Path = settings.index_dir
        self.model = settings.model
        self.splitter = asdict(settings.splitter.settings())
        self.vector_index = settings.vector_index.settings()
        self.on_switch = on_switch
        self.interval = interval
        self._refused: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Swap in the published version if it is new; True when a switch happened."""
        name = current_version_name(self.index_dir)
        old = self.retriever.index
        if not name or name == old.version or name == self._refused:
            return False
        try:
            new = load_index(self.index_dir, search=self.vector_index)
            check_compatible(new.meta, self.model, self.retriever.embedder.dimension, self.splitter)
            new.warm()
        except IndexError_ as exc:
            self._refused = name
            log.error("keeping index %s: the new version %s cannot be used: %s", old.version, name, exc)
            return False
        self.retriever.index = new
        log.warning("switched to index %s (was %s): %d passages", new.version, old.version, len(new.passages))
        if self.on_switch is not None:
            try:
                self.on_switch(old.version, new.version, format_changes(version_changes(new.path)))
            except Exception:  # a failing notification must not stop reloading
                log.exception("notifying about index %s failed", new.version)
        return True

    def start(self) -> IndexReloader:
        self._thread = threading.Thread(target=self._run, name="index-reloader", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # never let the watcher thread die silently
                log.exception("checking for a new index failed")
