"""The state database URL: a bad one is named without its password; SQLite paths resolve beside config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import StateDatabaseError
from bot.state.database import parse_url


def test_a_bad_url_is_named(tmp_path: Path) -> None:
    with pytest.raises(StateDatabaseError, match=r"mysql://\.\.\.: the state database URL must start with"):
        parse_url("mysql://root:pw@db/x", tmp_path)
    with pytest.raises(StateDatabaseError, match=r"postgresql://u:\*\*\*@db:x/p: the port must be a number"):
        parse_url("postgresql://u:pw@db:x/p", tmp_path)
    assert parse_url("sqlite:///var/s.db", tmp_path).target == str(tmp_path / "var" / "s.db")
    assert parse_url("sqlite:////srv/s.db", tmp_path).target == "/srv/s.db"
