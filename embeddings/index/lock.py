"""One `policybot index` at a time per index folder; the second one says who holds the lock."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from embeddings.errors import IndexLocked


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on `index_dir/.lock` (released when the process dies, even by SIGKILL)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / ".lock"
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"another index run holds {path}: {_holder(path)}; wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        handle.write(json.dumps({**holder, "command": " ".join(sys.argv[:3])}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']} since {info['since']} ({info.get('command', '')})"
    except (OSError, ValueError, KeyError):
        return "a process that has not written its name yet"
