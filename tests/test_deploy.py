"""The deployment files stay in step with the code: the container's config loads, its extras exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_container_config_loads_and_serves_http_on_all_interfaces_from_data() -> None:
    settings = load_settings(ROOT / "deploy" / "config.yaml")
    assert settings.slack.http_host == "0.0.0.0"
    assert settings.knowledge_dir == Path("/data/knowledge") and settings.index_dir == Path("/data/index")
    assert settings.state.pending_file.is_relative_to("/data/var")


def test_container_installs_only_extras_the_project_declares() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    containerfile = (ROOT / "deploy" / "Containerfile").read_text()
    wanted = re.search(r'pip install "\.\[([a-z,]+)\]"', containerfile)
    assert wanted is not None
    assert set(wanted.group(1).split(",")) <= extras.keys()
    assert "torch==2.13.0" in containerfile  # the CPU pin, as in pyproject.toml


def test_container_and_nginx_probe_the_bots_health_paths() -> None:
    from bot.slack.health import HEALTH_PATH, READY_PATH

    containerfile = (ROOT / "deploy" / "Containerfile").read_text()
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"http://127.0.0.1:3000{READY_PATH}" in containerfile and "HEALTHCHECK" in containerfile
    assert f"location ~ ^/({HEALTH_PATH[1:]}|{READY_PATH[1:]})$" in nginx
    assert "waitress" in (ROOT / "pyproject.toml").read_text()  # the server `serve --http` runs on
