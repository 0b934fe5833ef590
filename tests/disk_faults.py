"""A tiny tmpfs plays a full or read-only disk; tests that need one are skipped where mounting is not permitted."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["fill", "mount_tmpfs", "small_disk"]


def mount_tmpfs(path: Path, size: str, options: str = "") -> bool:
    """Mount a tmpfs of `size` (e.g. "4m") at `path`; False when this process may not mount."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted afterwards; skipped where mounting is not permitted."""
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "4m"):
        pytest.skip("mounting a tmpfs needs root (or CAP_SYS_ADMIN); the disk-full cases cannot be staged here")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Write a filler file until the disk is full (minus `leave` bytes); returns it so it can be removed."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    if leave:
        with open(filler, "r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - leave))
    return filler
