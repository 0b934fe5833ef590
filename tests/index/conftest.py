"""Index fixtures: a small disk to fill."""

from __future__ import annotations

from tests.disk_faults import small_disk  # noqa: F401  (a 4 MB tmpfs to fill)
