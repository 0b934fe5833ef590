"""Where passage vectors live: a FAISS file in each index version (default) or a Milvus collection.

Both implementations answer the same calls (`VectorStore`), so retrieval and indexing do not
care which one holds the vectors. `StoreSettings` comes from config.yaml's `vector_store.uri`:

    >>> StoreSettings.from_uri("").kind, StoreSettings.from_uri("http://milvus:19530").kind
    ('faiss', 'milvus')
    >>> redact("http://root:secret@milvus:19530")
    'http://root:***@milvus:19530'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from embeddings.errors import PolicyBotError

TOKEN_ENV = "POLICYBOT_MILVUS_TOKEN"
SETTING = "vector_store.uri"


class VectorStore(Protocol):
    """What retrieval and indexing need from the vectors of one index version."""

    dimension: int
    filter_fields: frozenset[str]  # metadata fields `search(where=...)` filters on (FAISS: none, it takes ids)

    @property
    def count(self) -> int: ...

    def search(
        self, vectors: np.ndarray, k: int, only: np.ndarray | None = None, where: Mapping[str, str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray: ...


class StoreSettings(BaseModel):
    """Which vector store an index is written to and read from (config.yaml `vector_store:`).

    `uri`: "" or "faiss" = FAISS files in the index folder; a path ending in .db = Milvus Lite
    (embedded, one process at a time); http(s)://host:port = a Milvus server, whose token comes
    from the POLICYBOT_MILVUS_TOKEN environment variable (it is no field: config.yaml cannot hold it).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    _token: str = PrivateAttr("")

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> StoreSettings:
        """Parse `uri` (load_settings has already made a Milvus Lite path absolute, relative to config.yaml)."""
        uri = uri.strip()
        if uri.lower() in ("", "faiss"):
            return cls(uri="", **options)
        if "://" in uri:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https", "tcp", "grpc"):
                raise PolicyBotError(
                    f"{SETTING}: expected faiss, a path ending in .db or http://host:19530, got {uri!r}"
                )
            if parts.password:
                raise PolicyBotError(f"{SETTING}: {redact(uri)} holds a password; set the token in {TOKEN_ENV} instead")
            return cls(uri=uri, **options)
        if not uri.endswith(".db"):
            raise PolicyBotError(f"{SETTING}: a Milvus Lite file must end in .db (e.g. index/milvus.db), got {uri!r}")
        return cls(uri=str(Path(uri).expanduser()), **options)

    def with_token(self, token: str) -> StoreSettings:
        """These settings connecting with `token` (kept out of the fields, so never dumped or shown)."""
        copy = self.model_copy()
        copy._token = token
        return copy

    @property
    def token(self) -> str:
        return self._token

    @property
    def kind(self) -> str:
        """faiss or milvus."""
        return "milvus" if self.uri else "faiss"

    @property
    def shown(self) -> str:
        """The URI as it may appear in messages and logs: any password replaced by ***."""
        return redact(self.uri) if self.uri else "faiss"

    @property
    def lite(self) -> bool:
        return self.uri.endswith(".db") and "://" not in self.uri


def redact(uri: str) -> str:
    """`uri` without the password of a user:password@ part."""
    parts = urlsplit(uri)
    if not parts.password:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))
