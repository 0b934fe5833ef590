"""config.yaml, loaded once into one typed settings object.

A bad value fails at start with the file, the key, the value and what was expected:
`config.yaml: answer.quote_ratio must be a number greater than 0 and at most 1, got 'high'`.
The search side's sections (splitter, retrieval, ingest, vector_index, vector_store) are the
settings models of the components in `embeddings/`, defined beside the code they configure.
"""

from __future__ import annotations

import ipaddress
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from embeddings.embedder import Runtime, embedding_name
from embeddings.errors import PolicyBotError
from embeddings.ingest.add import IngestSettings
from embeddings.ingest.splitter import SplitterSettings
from embeddings.retrieval import RetrievalSettings
from embeddings.vectors.base import TOKEN_ENV as MILVUS_TOKEN_ENV
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.faiss import VectorIndexSettings

DEFAULT_CONFIG = Path("config.yaml")
CONFIG_ENV = "POLICYBOT_CONFIG"
ENV_PREFIXES = ("POLICYBOT_", "SLACK_")  # the environment variables Settings.env holds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_RETIRED_ANSWER_KEYS = (
    "support_below",
    "min_term_coverage",
    "passage_margin",
    "sentence_margin",
    "term_weight",
)


class AnswerConfig(_Strict):
    @model_validator(mode="before")
    @classmethod
    def _no_retired_keys(cls, data: Any) -> Any:
        retired = [k for k in _RETIRED_ANSWER_KEYS if isinstance(data, dict) and k in data]
        if retired:
            raise ValueError(
                f"{', '.join(retired)}: no longer used (the learned scores in bot/answering/scores.json replaced "
                "these thresholds and weights; `policybot eval --sweep` shows their curve); remove them from the file"
            )
        return data

    abstain_below: float = Field(
        0.2, ge=0.0, le=1.0, description="abstain when no passage's dense score reaches this (off-topic questions)"
    )
    max_sentences: int = Field(4, ge=1, le=20, description="most sentences quoted (lists may add items)")
    max_passages: int = Field(3, ge=1, le=10, description="most passages quoted from")
    passage_margin: float = Field(0.1, ge=0.0, le=1.0, description="quote passages this close to the best")
    sentence_margin: float = Field(0.1, ge=0.0, le=1.0, description="quote sentences this close to the best")
    term_weight: float = Field(0.3, ge=0.0, le=5.0, description="bonus for sentences holding the question's key terms")
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="longer questions are refused")
    nearest_sources: int = Field(3, ge=1, le=10, description="sources shown when abstaining")
    quote_ratio: float = Field(
        0.3, gt=0.0, le=1.0, description="quote sentences at least this share of the best one's probability"
    )
    guard_passages: int = Field(
        5, ge=1, le=100, description="top passages whose text must mention the question's countries, years and names"
    )


class SlackConfig(_Strict):
    allowed_channels: list[str] = Field(default_factory=list, description="channel ids the bot answers in; empty = all")
    answer_thread_followups: bool = Field(True, description="answer replies in threads the bot has answered in")
    max_answer_chars: int = Field(2500, ge=200, le=3000, description="longer answers are trimmed at a sentence")
    http_host: str = Field("127.0.0.1", min_length=1, description="interface `serve --http` listens on")
    http_port: int = Field(3000, ge=1, le=65535, description="port `serve --http` listens on")
    feedback_db: Path = Field(
        Path("var/feedback.sqlite3"), description="SQLite file for feedback button clicks when state.url is not set"
    )
    changes_channel: str = Field(
        "", description="channel ID where each newly published index's change digest is posted"
    )
    dm_idle_minutes: float = Field(
        30.0,
        ge=0.0,
        le=10080.0,
        description="a direct message outside a thread continues the DM's conversation unless this many "
        "minutes passed since its last turn; 0 = each such DM stands alone",
    )
    answer_external: bool = Field(
        False, description="answer in Slack Connect (externally shared) channels and users of other organisations"
    )
    answer_workers: int = Field(4, ge=1, le=64, description="questions worked on at once (answers post in parallel)")
    answer_queue: int = Field(
        64, ge=0, le=10_000, description="questions waiting beyond those; more get 'busy, try again shortly'"
    )

    @field_validator("http_host")
    @classmethod
    def _host_name_or_ip(cls, host: str) -> str:
        if not _is_host(host):
            raise ValueError("a host name or IP address, e.g. 127.0.0.1, 0.0.0.0 or localhost")
        return host


_HOST_LABEL = re.compile(r"\A(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def _is_host(host: str) -> bool:
    """An IPv4/IPv6 address, or a DNS name whose labels are not all digits (so 256.1.1.1 is neither).

    >>> [_is_host(h) for h in ("0.0.0.0", "::1", "bot.internal", "256.1.1.1", "a b")]
    [True, True, True, False, False]
    """
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or all(label.isdigit() for label in labels):
        return False
    return all(_HOST_LABEL.match(label) for label in labels)


class StateConfig(_Strict):
    url: str | None = Field(
        None,
        min_length=1,
        description=(
            "database shared by replicas: sqlite:///path, a path, or postgresql://user@host:port/db; "
            "null = the slack.feedback_db file, one process; POLICYBOT_DATABASE_URL overrides it"
        ),
    )
    pending_file: Path = Field(
        Path("var/feedback-pending.jsonl"),
        description="feedback kept here while PostgreSQL is unreachable, written to it on reconnect",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="stored questions and answers (with their votes and corrections) older than this are deleted "
        "by the running bot, daily; null = kept",
    )


class IndexingConfig(_Strict):
    reload_seconds: float = Field(
        2.0, ge=0.0, le=3600.0, description="running bots look for a new index this often; 0 = never"
    )
    watch_debounce_ms: int = Field(
        1500, ge=50, le=60000, description="`index --watch` waits this long for edits to settle"
    )
    gate_eval_set: Path | None = Field(None, description="evaluation set run before publishing; null = no gate")
    gate_max_drop: float = Field(
        0.05, ge=0.0, le=1.0, description="largest drop in hit@1 or abstention accuracy allowed"
    )


class Settings(_Strict):
    """Everything PolicyBot reads from config.yaml; paths are relative to that file."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path("index")
    model: str = Field("all-MiniLM-L6-v2", min_length=1, description="sentence-transformers name or path")
    batch_size: int = Field(32, ge=1, le=1024)
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="runs the model: onnx (torch's vectors without torch), torch or onnx-int8 (quantized; own index)",
    )
    onnx_cache: Path = Field(
        Path("~/.cache/policybot/onnx"), description="where the onnx backends keep the model exported once"
    )
    build_runtime: Runtime = Field(
        "auto",
        description="runs the onnx model when `policybot index` embeds: openvino (bf16 where the CPU has it), "
        "onnxruntime, or auto (openvino when installed); the bot embeds the questions it answers with onnxruntime",
    )
    splitter: SplitterSettings = SplitterSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerConfig = AnswerConfig()
    slack: SlackConfig = SlackConfig()
    ingest: IngestSettings = IngestSettings()
    indexing: IndexingConfig = IndexingConfig()
    state: StateConfig = StateConfig()
    vector_index: VectorIndexSettings = VectorIndexSettings()
    vector_store: StoreSettings = StoreSettings()
    history_file: Path = Path("~/.policybot_history")
    eval_set: Path | None = Field(None, description="evaluation set `policybot eval` scores (--set picks another)")
    config_path: Path | None = None
    _env: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def env(self) -> Mapping[str, str]:
        """The POLICYBOT_* and SLACK_* environment variables read with the config (tokens, the
        state database URL): the only values that come from the environment, never from the file."""
        return self._env

    def with_env(self, env: Mapping[str, str]) -> Settings:
        """These settings with `env`'s POLICYBOT_* and SLACK_* variables; the Milvus token joins the vector store."""
        copy = self.model_copy(update={"vector_store": self.vector_store.with_token(env.get(MILVUS_TOKEN_ENV, ""))})
        copy._env = {k: v for k, v in env.items() if k.startswith(ENV_PREFIXES)}
        return copy

    @property
    def embedding_name(self) -> str:
        """The model name an index built with these settings records (int8 vectors get their own)."""
        return embedding_name(self.model, self.backend)


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read config.yaml (or $POLICYBOT_CONFIG) and the environment variables PolicyBot uses (`env`,
    default os.environ: the one place they are read); a missing default file means built-in defaults."""
    env = os.environ if env is None else env
    explicit = path is not None or CONFIG_ENV in env
    path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return _resolve(Settings(), Path.cwd(), None).with_env(env)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)  # _ConfigLoader is a SafeLoader
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except (ValueError, RecursionError) as exc:  # e.g. [[[[... nested thousands deep
        raise ConfigError(f"{path}: holds a value YAML cannot read ({exc})") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected 'key: value' settings at the top level, got {type(raw).__name__}")
    if coerced := _coerced_scalars(Settings, raw, ()):
        raise ConfigError(
            f"{path}: " + "; ".join(f"{key} must be {_expected(loc)}, got {v!r}" for key, loc, v in coerced)
        )
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    try:
        return _resolve(settings, path.resolve().parent, path).with_env(env)
    except PolicyBotError as exc:  # a vector_store.uri StoreSettings.from_uri refuses
        raise ConfigError(f"{path}: {exc}") from None


def require_gate_eval_set(settings: Settings) -> None:
    """Raise `ConfigError` naming `indexing.gate_eval_set` when it names a file that is not there;
    `policybot index` calls it before loading the model, so a typo fails in a second, not after."""
    gate = settings.indexing.gate_eval_set
    if gate is not None and not gate.is_file():
        where = settings.config_path or "config.yaml"
        raise ConfigError(
            f"{where}: indexing.gate_eval_set must be an evaluation set file that exists, got '{gate}' (not found); "
            "fix the path or set it to null to publish without the gate"
        )


class _ConfigLoader(yaml.SafeLoader):
    """YAML as `yaml.safe_load` reads it, except that dates stay text: no setting takes a date, and an
    impossible one (2001-13-45) then gets the usual message naming its key instead of a YAML error."""


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _coerced_scalars(model: type[BaseModel], raw: Any, loc: tuple[str, ...]) -> list[tuple[str, tuple[str, ...], Any]]:
    """(key, loc, value) of each value pydantic would quietly convert: `true` for a number (top_k: true is 1),
    anything but true/false for a switch, a quoted number ('5') for a number."""
    if not isinstance(raw, dict):
        return []
    found = []
    for key, value in raw.items():
        field = model.model_fields.get(str(key))
        if field is None or value is None:
            continue
        where = (*loc, str(key))
        kind = _unwrap_optional(field.annotation)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += _coerced_scalars(kind, value, where)
        elif (kind is bool and not isinstance(value, bool)) or (
            kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            found.append((".".join(where), where, value))
    return found


def _unwrap_optional(annotation: Any) -> Any:
    """`X` for `X | None`; other annotations as they are."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _resolve(settings: Settings, base: Path, path: Path | None) -> Settings:
    """Paths made absolute (relative to `base`, config.yaml's folder) and the vector store's URI parsed."""
    store = settings.vector_store

    def absolute(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else base / p

    return settings.model_copy(
        update={
            "knowledge_dir": absolute(settings.knowledge_dir),
            "index_dir": absolute(settings.index_dir),
            "onnx_cache": absolute(settings.onnx_cache),
            "history_file": settings.history_file.expanduser(),
            "slack": settings.slack.model_copy(update={"feedback_db": absolute(settings.slack.feedback_db)}),
            "state": settings.state.model_copy(update={"pending_file": absolute(settings.state.pending_file)}),
            "indexing": settings.indexing.model_copy(
                update={"gate_eval_set": absolute(gate) if (gate := settings.indexing.gate_eval_set) else None}
            ),
            "eval_set": absolute(settings.eval_set) if settings.eval_set else None,
            "vector_store": StoreSettings.from_uri(_store_uri(store.uri, base), **store.model_dump(exclude={"uri"})),
            "config_path": path,
        }
    )


def _store_uri(uri: str, base: Path) -> str:
    """A Milvus Lite path made absolute (relative to config.yaml); other URIs as written."""
    uri = uri.strip()
    if not uri or uri.lower() == "faiss" or "://" in uri:
        return uri
    path = Path(uri).expanduser()
    return str(path if path.is_absolute() else base / path)


def _describe(path: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key {key!r}")
        elif error["type"] == "value_error":  # a validator's own words say what is expected
            problems.append(f"{key} must be {error.get('ctx', {}).get('error')}, got {error.get('input')!r}")
        else:
            problems.append(f"{key} must be {_expected(error['loc'])}, got {error.get('input')!r}")
    return f"{path}: " + "; ".join(problems)


def _expected(loc: tuple[Any, ...]) -> str:
    """Say what a setting takes, from its type, bounds and description in the model."""
    model: Any = Settings
    field = None
    for part in loc:
        fields = getattr(model, "model_fields", None) if isinstance(model, type) else None
        field = fields.get(str(part)) if fields else None
        if field is None:
            return "a valid value"
        model = _unwrap_optional(field.annotation)
    if field is None:
        return "a valid value"
    kinds: dict[Any, str] = {
        int: "a whole number",
        float: "a number",
        str: "a non-empty text",
        Path: "a path",
        bool: "true or false",
        list[str]: "a list of texts",
    }
    annotation = _unwrap_optional(field.annotation)
    if get_origin(annotation) is Literal:
        kind = "one of " + ", ".join(repr(v) for v in get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        kind = "a mapping of settings"
    else:
        kind = kinds.get(annotation, "a valid value")
    if annotation is not field.annotation:
        kind += " or null"
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if low is not None and high is not None:
        kind += f" from {low} to {high}"
    elif low is not None:
        kind += f" of at least {low}"
    if field.description:
        kind += f" ({field.description})"
    return kind
