"""What an index version was built with (its meta.json), and whether that fits the configuration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.errors import IndexError_
from embeddings.vectors.base import StoreSettings

FORMAT_VERSION = 6
# Older formats whose vectors and passages are still valid: `policybot index` upgrades them
# without re-embedding (3 added the acronym table to meta.json, 4 the files' checksums, 5 float16
# vectors: sentence vectors in passages.sqlite, passage vectors in vectors.faiss; 6 moved the
# sentence vectors to sentences.f16, read from the file when served).
UPGRADABLE_FORMATS = frozenset({2, 3})
# Formats with checksums, served as they are (checked file by file): 4's float32 vectors are read
# as float16 in memory, 4's and 5's are held in memory (not read from disk), and the next `policybot index`
# writes format 6, without re-embedding.
CHECKSUMMED_FORMATS = frozenset({4, 5, FORMAT_VERSION})
REBUILD_HINT = "rebuild it with: policybot index --full"
REPAIR_HINT = "run: policybot index (it sets the damaged version aside and rebuilds it)"
UPGRADE_HINT = "run: policybot index (it upgrades the index without re-embedding)"


@dataclass(frozen=True)
class IndexMeta:
    """What an index was built with; a mismatch with the configuration forces a rebuild."""

    model: str
    dimension: int
    splitter: dict[str, Any]
    version: str = ""
    format_version: int = FORMAT_VERSION
    passages: int = 0
    documents: dict[str, str] = field(default_factory=dict)  # path -> content digest
    acronyms: dict[str, str] = field(default_factory=dict)  # "AMP" -> "Advanced Manufacturing Partnership"
    # "AMP" -> [passages using "AMP", passages using its long form], counted at build time (counting
    # at start-up read every passage: minutes at a million); empty in versions written before it
    acronym_counts: dict[str, list[int]] = field(default_factory=dict)
    created: str = ""
    vector_index: str = "flat"  # what vectors.faiss holds: "flat", "ivf nlist=632", "hnsw m=32 ..."; "milvus HNSW"
    vector_store: str = "faiss"  # faiss or milvus
    files: dict[str, str] = field(default_factory=dict)  # every other file of the version -> its SHA-256
    split_rules: int = 1  # the splitter's SPLIT_RULES the passages were cut with (1: before it was recorded)

    def to_json(self) -> str:
        """The fields, plus `checksum`: the SHA-256 of the same JSON without it (see `meta_damage`)."""
        return _dump({**self.__dict__, "checksum": _digest(_dump(self.__dict__))})


def _dump(fields: dict[str, Any]) -> str:
    return json.dumps(fields, indent=2, sort_keys=True) + "\n"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_damage(raw: dict[str, Any]) -> str | None:
    """What is wrong with a parsed meta.json of the current format (None: it is as written)."""
    fields = dict(raw)
    claimed = fields.pop("checksum", None)
    if claimed != _digest(_dump(fields)):
        return "meta.json does not match its checksum" if claimed else "meta.json has no checksum"
    if not fields.get("files"):
        return "meta.json lists no files"
    return None


def read_meta(version_dir: Path) -> IndexMeta:
    """A version's meta.json; an unreadable one is named with the command that rebuilds it."""
    meta_path = version_dir / "meta.json"
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
        known = {k: raw[k] for k in IndexMeta.__dataclass_fields__ if k in raw}
        return IndexMeta(**known)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexError_(f"{meta_path}: unreadable index metadata ({exc}); {REPAIR_HINT}") from exc


def check_compatible(
    meta: IndexMeta, model: str, dimension: int | None, splitter: dict[str, Any], upgrading: bool = False
) -> None:
    """Refuse an index built differently from the configuration, saying how it differs
    (`upgrading`: an older format whose vectors can be reused is accepted too)."""
    if meta.format_version in UPGRADABLE_FORMATS and not upgrading:
        raise IndexError_(
            f"the index has format version {meta.format_version} (written by an older PolicyBot, "
            f"without checksums), this PolicyBot reads {FORMAT_VERSION}; {UPGRADE_HINT}"
        )
    if meta.format_version not in CHECKSUMMED_FORMATS and meta.format_version not in UPGRADABLE_FORMATS:
        raise IndexError_(
            f"the index has format version {meta.format_version}, this PolicyBot reads {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if meta.model != model:
        raise IndexError_(f"the index was built with model {meta.model!r}, config.yaml names {model!r}; {REBUILD_HINT}")
    if dimension is not None and meta.dimension != dimension:
        raise IndexError_(
            f"the index has dimension {meta.dimension}, the model {model!r} gives {dimension}; {REBUILD_HINT}"
        )
    if meta.splitter != splitter:
        raise IndexError_(f"the index was split with {meta.splitter}, config.yaml says {splitter}; {REBUILD_HINT}")


def check_store(meta: IndexMeta, store: StoreSettings, index_dir: Path) -> None:
    """Refuse an index whose vectors are in another store than config.yaml's `vector_store.uri` names."""
    if meta.vector_store != store.kind:
        raise IndexError_(
            f"{index_dir} was built with {meta.vector_store}; config.yaml sets vector_store.uri={store.shown}: "
            "run policybot index (it moves the stored vectors, without re-embedding)"
        )
