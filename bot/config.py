"""config.yaml, loaded once into one typed settings object.

A bad value fails at start with the file, the key, the value and what was expected:
`config.yaml: answer.abstain_below must be a number between 0 and 1, got 'high'`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from embeddings.embedder import embedding_name
from embeddings.errors import PolicyBotError
from embeddings.ingest.readers import MB, ReadLimits
from embeddings.ingest.splitter import SplitterSettings
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.faiss import VectorIndexSettings

DEFAULT_CONFIG = Path("config.yaml")
CONFIG_ENV = "POLICYBOT_CONFIG"


class ConfigError(PolicyBotError):
    """config.yaml is missing, unreadable or holds a bad value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitterConfig(_Strict):
    max_chars: int = Field(1200, ge=100, le=20000, description="longest passage, in characters")
    min_chars: int = Field(1, ge=1, le=1000, description="shorter blocks are dropped")

    def settings(self) -> SplitterSettings:
        return SplitterSettings(max_chars=self.max_chars, min_chars=self.min_chars)


class RetrievalConfig(_Strict):
    top_k: int = Field(5, ge=1, le=100, description="passages retrieved per question")
    mode: Literal["dense", "lexical", "hybrid"] = Field(
        "hybrid", description="dense (embeddings), lexical (BM25 keywords) or hybrid (both fused)"
    )
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted",
        description="hybrid fusion: weighted (dense + lexical_weight x scaled BM25) or rrf (reciprocal rank)",
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="reciprocal rank fusion constant")
    lexical_weight: float = Field(0.3, ge=0.0, le=10.0, description="weight of the BM25 score; 0 = dense only")


class AnswerConfig(_Strict):
    abstain_below: float = Field(0.25, ge=0.0, le=1.0, description="abstain when the best passage scores lower")
    support_below: float = Field(
        0.45, ge=0.0, le=1.0, description="below this dense score the question's key terms must also be found"
    )
    min_term_coverage: float = Field(
        0.25, ge=0.0, le=1.0, description="share of the question's key terms (by rarity) the best passages must hold"
    )
    max_sentences: int = Field(4, ge=1, le=20, description="most sentences quoted (lists may add items)")
    max_passages: int = Field(3, ge=1, le=10, description="most passages quoted from")
    passage_margin: float = Field(0.1, ge=0.0, le=1.0, description="quote passages this close to the best")
    sentence_margin: float = Field(0.1, ge=0.0, le=1.0, description="quote sentences this close to the best")
    term_weight: float = Field(0.3, ge=0.0, le=5.0, description="bonus for sentences holding the question's key terms")
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="longer questions are refused")
    nearest_sources: int = Field(3, ge=1, le=10, description="sources shown when abstaining")


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


class VectorIndexConfig(_Strict):
    type: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description="auto (exact up to exact_up_to passages, IVF above), flat (exact), hnsw or ivf (approximate)",
    )
    exact_up_to: int = Field(
        50_000, ge=0, le=100_000_000, description="auto searches exactly up to this many passages; also filters"
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph neighbours per vector")
    hnsw_ef_construction: int = Field(80, ge=8, le=2048, description="HNSW build-time search depth")
    hnsw_ef_search: int = Field(64, ge=8, le=4096, description="HNSW query-time search depth")
    ivf_nlist: int = Field(0, ge=0, le=1_000_000, description="IVF inverted lists; 0 = about 2 x sqrt(passages)")
    ivf_nprobe: int = Field(0, ge=0, le=100_000, description="IVF lists searched per query; 0 = a sixth of the lists")

    def settings(self) -> VectorIndexSettings:
        return VectorIndexSettings(
            kind=self.type,
            exact_up_to=self.exact_up_to,
            hnsw_m=self.hnsw_m,
            hnsw_ef_construction=self.hnsw_ef_construction,
            hnsw_ef_search=self.hnsw_ef_search,
            ivf_nlist=self.ivf_nlist,
            ivf_nprobe=self.ivf_nprobe,
        )


class VectorStoreConfig(_Strict):
    uri: str = Field(
        "",
        description=(
            "where passage vectors live: empty or faiss (files in index_dir), a path ending in .db "
            "(Milvus Lite) or http://host:19530 (a Milvus server; token from POLICYBOT_MILVUS_TOKEN)"
        ),
    )
    milvus_index: Literal["AUTOINDEX", "FLAT", "HNSW", "IVF_FLAT"] = Field(
        "AUTOINDEX", description="Milvus vector index type (AUTOINDEX lets Milvus choose)"
    )
    collection_prefix: str = Field(
        "policybot",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$",
        description="Milvus collections are named PREFIX_<version>_<random>; one prefix per index_dir",
    )
    timeout: float = Field(10.0, gt=0, le=600, description="seconds a Milvus request may take")

    def settings(self) -> StoreSettings:
        """The store; a Milvus Lite path is relative to config.yaml (already resolved by load_settings)."""
        return StoreSettings.from_uri(
            self.uri, milvus_index=self.milvus_index, collection_prefix=self.collection_prefix, timeout=self.timeout
        )


class IngestConfig(_Strict):
    max_file_mb: float = Field(50, gt=0, le=10_000, description="larger documents are skipped unread (MB)")
    max_pdf_pages: int = Field(2000, ge=1, le=100_000, description="PDFs with more pages are skipped")
    max_read_seconds: float = Field(60, gt=0, le=3600, description="PDF text extraction time budget (seconds)")
    download_timeout: float = Field(30, gt=0, le=600, description="`policybot add URL`: seconds for the download")
    max_redirects: int = Field(5, ge=0, le=10, description="`policybot add URL`: redirects followed")

    def limits(self) -> ReadLimits:
        return ReadLimits(int(self.max_file_mb * MB), self.max_pdf_pages, self.max_read_seconds)


class Settings(_Strict):
    """Everything PolicyBot reads from config.yaml; paths are relative to that file."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path("index")
    model: str = Field("all-MiniLM-L6-v2", min_length=1, description="sentence-transformers name or path")
    batch_size: int = Field(32, ge=1, le=1024)
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "torch",
        description="runs the model: torch, onnx (same vectors, no torch import) or onnx-int8 (quantized; own index)",
    )
    onnx_cache: Path = Field(
        Path("~/.cache/policybot/onnx"), description="where the onnx backends keep the model exported once"
    )
    splitter: SplitterConfig = SplitterConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    answer: AnswerConfig = AnswerConfig()
    slack: SlackConfig = SlackConfig()
    ingest: IngestConfig = IngestConfig()
    indexing: IndexingConfig = IndexingConfig()
    state: StateConfig = StateConfig()
    vector_index: VectorIndexConfig = VectorIndexConfig()
    vector_store: VectorStoreConfig = VectorStoreConfig()
    history_file: Path = Path("~/.policybot_history")
    eval_set: Path | None = Field(None, description="evaluation set `policybot eval` scores (--set picks another)")
    config_path: Path | None = None

    @property
    def embedding_name(self) -> str:
        """The model name an index built with these settings records (int8 vectors get their own)."""
        return embedding_name(self.model, self.backend)


def load_settings(path: Path | None = None) -> Settings:
    """Read config.yaml (or $POLICYBOT_CONFIG); a missing default file means built-in defaults."""
    explicit = path is not None or CONFIG_ENV in os.environ
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return _resolve(Settings(), Path.cwd(), None)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except (ValueError, RecursionError) as exc:  # e.g. a date that does not exist (2001-13-45), or [[[[... deep
        raise ConfigError(f"{path}: holds a value YAML cannot read ({exc})") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected 'key: value' settings at the top level, got {type(raw).__name__}")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    settings = _resolve(settings, path.resolve().parent, path)
    try:
        settings.vector_store.settings()
    except PolicyBotError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return settings


def _resolve(settings: Settings, base: Path, path: Path | None) -> Settings:
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
            "vector_store": settings.vector_store.model_copy(
                update={"uri": _store_uri(settings.vector_store.uri, base)}
            ),
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
        model = field.annotation
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
    if get_origin(field.annotation) is Literal:
        kind = "one of " + ", ".join(repr(v) for v in get_args(field.annotation))
    else:
        kind = kinds.get(field.annotation, "a mapping of settings")
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if low is not None and high is not None:
        kind += f" from {low} to {high}"
    elif low is not None:
        kind += f" of at least {low}"
    if field.description:
        kind += f" ({field.description})"
    return kind
