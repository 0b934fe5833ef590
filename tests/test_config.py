"""config.yaml: defaults load, and a bad value names the file, the key, the value and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_paths_relative_to_it() -> None:
    settings = load_settings(ROOT / "config.yaml")
    assert settings.knowledge_dir == ROOT / "knowledge"
    assert settings.index_dir == ROOT / "index"
    assert settings.model == "all-MiniLM-L6-v2"
    assert 0 < settings.answer.quote_ratio <= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "retrieval:\n  top_k: ten\n",
            "retrieval.top_k must be a whole number from 1 to 100 (passages retrieved per question), got 'ten'",
        ),
        ("answer:\n  quote_ratio: 1.5\n", "answer.quote_ratio must be a number"),
        ("answer:\n  term_weight: 0.3\n", "term_weight: no longer used (the learned scores"),
        ("retreival:\n  top_k: 3\n", "unknown key 'retreival'"),
        ("model: ''\n", "model must be a non-empty text"),
        ("- just\n- a list\n", "expected 'key: value' settings at the top level, got list"),
        ("answer: [unclosed\n", "is not valid YAML"),
    ],
)
def test_bad_values_fail_with_file_key_value_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_a_named_config_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.yaml")


def test_config_path_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("retrieval:\n  top_k: 7\n")
    monkeypatch.setenv("POLICYBOT_CONFIG", str(path))
    assert load_settings().retrieval.top_k == 7


def test_secrets_come_from_the_environment_read_with_the_config(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "POLICYBOT_MILVUS_TOKEN": "root:pw", "HOME": "/root", "PGPASSWORD": "x"}
    settings = load_settings(ROOT / "config.yaml", env=env)
    assert dict(settings.env) == {"SLACK_BOT_TOKEN": "xoxb-1", "POLICYBOT_MILVUS_TOKEN": "root:pw"}
    assert settings.vector_store.token == "root:pw"
    assert "xoxb-1" not in repr(settings) and "root:pw" not in repr(settings)


def test_a_secret_in_config_yaml_is_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("env:\n  SLACK_BOT_TOKEN: xoxb-1\n")
    with pytest.raises(ConfigError, match="unknown key 'env'"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("retrieval:\n  top_k: true\n", "retrieval.top_k must be a whole number from 1 to 100"),
        ("answer:\n  quote_ratio: true\n", "answer.quote_ratio must be a number"),
        ("slack:\n  answer_thread_followups: 1\n", "slack.answer_thread_followups must be true or false"),
        ('state:\n  url: ""\n', "state.url must be a non-empty text or null (database shared by replicas"),
        ("answer:\n  quote_ratio: 2001-13-45\n", "answer.quote_ratio must be a number"),
        ("slack:\n  http_host: 256.1.1.1\n", "slack.http_host must be a host name or IP address"),
    ],
)
def test_values_pydantic_would_convert_or_misname_are_refused_by_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert "got " in str(caught.value) and "mapping" not in str(caught.value)


def test_a_date_like_name_is_text_and_host_names_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("model: 2001-13-45\nslack:\n  http_host: bot.example.com\n")
    settings = load_settings(path)
    assert (settings.model, settings.slack.http_host) == ("2001-13-45", "bot.example.com")
