"""State-database fixtures: an open database of each kind, and a small disk to fill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.state.connect import open_database
from bot.state.database import Database
from tests.disk_faults import small_disk  # noqa: F401  (a 4 MB tmpfs to fill)
from tests.state.databases import state_settings


@pytest.fixture
def db(state_url: str, tmp_path: Path) -> Iterator[Database]:
    """The state database at `state_url` (SQLite, then PostgreSQL), opened as a replica starting would."""
    database = open_database(state_settings(state_url, tmp_path), env={})
    yield database
    database.close()
