"""Writes that could not reach the state database, kept in a local file until they can.

One JSON line per write, appended and fsynced before the user is thanked, so neither an outage
nor a restart loses feedback; the file is read back in order and emptied once the database has
taken every line. It is private (0600) and bounded: when full, a write fails as it would have.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from bot.errors import PendingFull
from embeddings.atomic import fsync_path

MAX_BYTES = 20 * 1024 * 1024  # about 10,000 answers with their blocks

Entry = tuple[str, list[Any]]  # (operation, its arguments)


class PendingWrites:
    """A JSON-lines queue on disk, safe for threads and processes (an exclusive `flock` around each use).

    >>> import tempfile
    >>> queue = PendingWrites(Path(tempfile.mkdtemp()) / "pending.jsonl")
    >>> queue.add("vote", ["a1", "U1", "C1", "helpful"])
    >>> queue.replay(lambda entries: print(entries))
    [('vote', ['a1', 'U1', 'C1', 'helpful'])]
    1
    >>> queue.has_entries()
    False
    """

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes

    def has_entries(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def add(self, operation: str, args: list[Any]) -> None:
        """Append one write durably; PendingFull when the file is at its limit."""
        line = (json.dumps([operation, args], ensure_ascii=False) + "\n").encode()
        with self._locked() as f:
            f.seek(0, os.SEEK_END)
            if f.tell() + len(line) > self.max_bytes:
                raise PendingFull(f"{self.path} holds {f.tell()} bytes of unsent feedback (limit {self.max_bytes})")
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def replay(self, apply: Callable[[list[Entry]], None]) -> int:
        """Hand every entry, oldest first, to `apply`; remove them only if it returns. The count replayed.

        `apply` (a database that may hang) runs under a lock of its own, one replay at a time, not the
        file's: an `add` meanwhile waits only for a read or a write of the file, and is kept for the next replay.
        """
        with self._locked(".replay"):
            with self._locked() as f:
                f.seek(0)
                data = f.read()
            entries: list[Entry] = []
            for line in data.decode("utf-8", errors="replace").splitlines():
                try:
                    operation, args = json.loads(line)
                except ValueError:
                    continue  # a line torn by a crash mid-append
                entries.append((operation, args))
            if entries:
                apply(entries)
            with self._locked() as f:  # keep what was added while `apply` ran
                f.seek(len(data))
                rest = f.read()
                f.seek(0)
                f.write(rest)
                f.truncate(len(rest))
                f.flush()
                os.fsync(f.fileno())
            return len(entries)

    @contextmanager
    def _locked(self, suffix: str = "") -> Iterator[BinaryIO]:
        """The file (or, with a suffix, its lock file beside it), open and exclusively locked."""
        path = self.path.with_name(self.path.name + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if created:  # the new file's name is made durable too, not only the lines fsynced into it
            fsync_path(path.parent)
        with os.fdopen(fd, "r+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield f
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
