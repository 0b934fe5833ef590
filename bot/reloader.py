"""Pick up a newly published index while the bot runs: no restart, no moment where questions fail."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.config import Settings
from embeddings.errors import IndexError_
from embeddings.index.changes import format_changes, version_changes
from embeddings.index.loaded import load_version
from embeddings.index.meta import check_compatible
from embeddings.index.versions import current_version_name
from embeddings.retrieval import Retriever

log = logging.getLogger(__name__)

OnSwitch = Callable[[str, str, str], None]  # (old version, new version, change digest as text)
VersionSource = Callable[[], str | None]  # the version to serve, e.g. read from the shared state database


class IndexReloader:
    """Polls `index/CURRENT`; a new version is loaded and warmed beside the old one, then swapped in.

    Questions in flight keep the version they started with. A version that fails to load is
    logged once and the current one keeps serving. With `version_source` (replicas sharing a
    state database), the version it names is served instead of CURRENT's, so all replicas agree;
    while it names none yet, or cannot be read, CURRENT (or the version serving) stands.
    """

    def __init__(
        self,
        retriever: Retriever,
        settings: Settings,
        on_switch: OnSwitch | None = None,
        version_source: VersionSource | None = None,
    ) -> None:
        self.retriever = retriever
        self.index_dir: Path = settings.index_dir
        self.model = settings.embedding_name
        self.splitter = settings.splitter.model_dump()
        self.vector_index = settings.vector_index
        self.store = settings.vector_store
        self.on_switch = on_switch
        self.interval = settings.indexing.reload_seconds
        self.version_source = version_source
        self._refused: str | None = None
        self._missing: str | None = None
        self._source_failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, notify: bool = True) -> bool:
        """Swap in the published version if it is new; True when a switch happened (`on_switch` told if `notify`)."""
        name = self._wanted()
        old = self.retriever.index
        if not name or name == old.version or name == self._refused:
            return False
        version_dir = self.index_dir / "versions" / name
        if not (version_dir / "meta.json").is_file():
            if name != self._missing:  # e.g. the index folder is not (yet) shared with the indexer
                self._missing = name
                log.error("keeping index %s: version %s is not in %s", old.version, name, version_dir.parent)
            return False
        try:
            new = load_version(version_dir, search=self.vector_index, store=self.store)
            check_compatible(new.meta, self.model, self.retriever.embedder.dimension, self.splitter)
            new.warm()
        except IndexError_ as exc:
            self._refused = name
            log.error("keeping index %s: the new version %s cannot be used: %s", old.version, name, exc)
            return False
        self.retriever.index = new
        log.warning("switched to index %s (was %s): %d passages", new.version, old.version, len(new.passages))
        if self.on_switch is not None and notify:
            try:
                self.on_switch(old.version, new.version, format_changes(version_changes(new.path)))
            except Exception:  # a failing notification must not stop reloading
                log.exception("notifying about index %s failed", new.version)
        return True

    def _wanted(self) -> str | None:
        """The version to serve: the shared database's when it names one, else index/CURRENT's."""
        if self.version_source is not None:
            try:
                name = self.version_source()
            except Exception as exc:
                if not self._source_failing:
                    log.error(
                        "keeping index %s: cannot read the published version: %s", self.retriever.index.version, exc
                    )
                self._source_failing = True
                return None
            if self._source_failing:
                log.warning("the published version can be read again")
            self._source_failing = False
            if name:
                return name
        return current_version_name(self.index_dir)

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
