"""Pick up a newly published index while the bot runs: no restart, no moment where questions fail."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from embeddings.errors import IndexError_
from embeddings.index.changes import format_changes, version_changes
from embeddings.index.loaded import load_version
from embeddings.index.meta import check_compatible
from embeddings.index.versions import current_version_name
from embeddings.retrieval import Retriever

log = logging.getLogger(__name__)

RETRY_CAP = 8  # a version that failed to load is tried again at least every 8 reload intervals
CATCH_UP_SECONDS = 1.0  # with reloading off, how often a replica retries taking up the shared database's version

OnSwitch = Callable[[str, str, str], None]  # (old version, new version, change digest as text)
VersionSource = Callable[[], str | None]  # the version to serve, e.g. read from the shared state database


class IndexReloader:
    """Polls `index/CURRENT`; a new version is loaded and warmed beside the old one, then swapped in.

    Questions in flight keep the version they started with. A version that fails to load (e.g.
    caught half-copied) is logged once per reason while the current one keeps serving, and is
    tried again until it loads or another version is named: at once when its folder changed and
    then stayed still for one interval (a copy completed, a file repaired), else after a delay
    doubling from `reload_seconds` up to RETRY_CAP intervals. With `version_source` (replicas
    sharing a state database), the version it names is served instead of CURRENT's, so all
    replicas agree; while it names none yet, or cannot be read, CURRENT (or the version serving) stands.
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
        self._retry: _Retry | None = None  # the version that last failed to load, and when to try it again
        self._reported: tuple[str, str] | None = None  # (version, reason) last logged
        self._source_failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, notify: bool = True) -> bool:
        """Swap in the published version if it is new; True when a switch happened (`on_switch` told if `notify`)."""
        name = self._wanted()
        old = self.retriever.index
        if not name or name == old.version:
            self._retry = None
            return False
        version_dir = self.index_dir / "versions" / name
        if not (version_dir / "meta.json").is_file():  # e.g. the index folder is not (yet) shared or fully copied
            self._report(name, f"version {name} is not in {version_dir.parent}")
            return False
        if self._retry is not None and self._retry.name == name and not self._retry.due(version_dir):
            return False
        try:
            new = load_version(version_dir, search=self.vector_index, store=self.store)
            check_compatible(new.meta, self.model, self.retriever.embedder.dimension, self.splitter)
            new.warm()
        except (IndexError_, OSError) as exc:  # OSError: a file renamed or removed while it loaded
            self._retry = _Retry.after(self._retry, name, version_dir, self.interval)
            self._report(name, f"the new version {name} cannot be used: {exc}")
            return False
        self._retry = None
        self._reported = None
        self.retriever.index = new
        log.warning("switched to index %s (was %s): %d passages", new.version, old.version, len(new.passages))
        if self.on_switch is not None and notify:
            try:
                self.on_switch(old.version, new.version, format_changes(version_changes(new.path)))
            except Exception:  # a failing notification must not stop reloading
                log.exception("notifying about index %s failed", new.version)
        return True

    def _report(self, name: str, reason: str) -> None:
        """Log why `name` is not served yet, once per change of reason (not at every retry)."""
        if (name, reason) != self._reported:
            self._reported = (name, reason)
            log.error("keeping index %s: %s (retrying until it loads)", self.retriever.index.version, reason)

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

    def caught_up(self) -> bool:
        """Whether the version to serve is served: no failed load pending, the source readable."""
        name = self._wanted()
        return self._retry is None and not self._source_failing and name in (None, self.retriever.index.version)

    @property
    def running(self) -> bool:
        """Whether its thread still checks."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> IndexReloader:
        """Check every `reload_seconds` until stopped."""
        self._thread = threading.Thread(target=self._run, name="index-reloader", daemon=True)
        self._thread.start()
        return self

    def start_catching_up(self, interval: float = CATCH_UP_SECONDS) -> IndexReloader:
        """With reloading off: check every `interval` (a failed load backing off) until `caught_up`, then stop."""
        self.interval = interval
        self._thread = threading.Thread(target=self._run, args=(True,), name="index-catch-up", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, until_caught_up: bool = False) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check(notify=not until_caught_up)
                if until_caught_up and self.caught_up():
                    return
            except Exception:  # never let the watcher thread die silently
                log.exception("checking for a new index failed")


@dataclass
class _Retry:
    """When to try again a version that failed to load."""

    name: str
    delay: float
    at: float  # time.monotonic() of the next try
    failed_on: tuple[tuple[str, int, int], ...]  # the folder's files when it failed
    seen: tuple[tuple[str, int, int], ...]  # the folder's files at the last check

    @classmethod
    def after(cls, last: _Retry | None, name: str, version_dir: Path, interval: float) -> _Retry:
        """The next try after a failure: the delay doubles from `interval` up to RETRY_CAP intervals."""
        step = max(interval, 0.01)
        delay = min(last.delay * 2, step * RETRY_CAP) if last is not None and last.name == name else step
        files = _files(version_dir)
        return cls(name, delay, time.monotonic() + delay, files, files)

    def due(self, version_dir: Path) -> bool:
        """True when the delay is over, or the folder changed since the failure and then stayed still."""
        files = _files(version_dir)
        settled = files == self.seen and files != self.failed_on
        self.seen = files
        return settled or time.monotonic() >= self.at


def _files(version_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of each file in a version folder, to notice a copy or repair completing."""
    try:
        stats = [(p.name, p.stat()) for p in sorted(version_dir.iterdir())]
    except OSError:
        return ()
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)
