"""Property-based: any config.yaml text loads, or fails with one line naming the file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from tests.strategies import FAST, any_text

yaml_scalars = st.one_of(
    st.sampled_from(["ten", "-1", "0", "1e9", "null", "~", "yes", "[]", "{}", "2001-13-45", "2020-01-01", ".nan"]),
    st.sampled_from(["!!binary 'AA=='", "!!python/name:os.system", "*undefined", "&a [*a]", "'unclosed", '"\\x"']),
    any_text,
)
config_keys = st.sampled_from(
    [
        "knowledge_dir",
        "index_dir",
        "model",
        "batch_size",
        "splitter",
        "retrieval",
        "answer",
        "slack",
        "ingest",
        "indexing",
        "history_file",
        "config_path",
        "top_k",
        "max_chars",
        "feedback_db",
        "http_port",
        "bogus",
    ]
)
config_yaml = st.one_of(
    any_text,
    st.lists(st.tuples(config_keys, yaml_scalars), max_size=6).map(lambda kv: "".join(f"{k}: {v}\n" for k, v in kv)),
    st.lists(st.tuples(config_keys, config_keys, yaml_scalars), max_size=6).map(
        lambda kv: "".join(f"{a}:\n  {b}: {v}\n" for a, b, v in kv)
    ),
)


@FAST
@given(text=config_yaml)
@example(text="answer: 2001-13-45\n")
@example(text="a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b]\n")
@example(text="[" * 2000)
@example(text="slack:\n  allowed_channels: !!binary 'AA=='\n")
@example(text="\x00")
@example(text="\ufeffmodel: x\n")
def test_any_config_text_loads_or_fails_with_one_line_naming_the_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_settings(path)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(str(path)), message
            assert len(message) < 2000 and "Traceback" not in message
            return
        assert isinstance(loaded, Settings) and loaded.config_path == path


@FAST
@given(raw=st.binary(max_size=300))
def test_config_that_is_not_utf8_text_fails_with_one_line(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_bytes(raw)
        try:
            load_settings(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))
