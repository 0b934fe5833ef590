"""Errors that tell the user what went wrong and what to do about it: every type `embeddings` raises."""

from __future__ import annotations

from pathlib import Path


class PolicyBotError(Exception):
    """Base class: its message is meant for the user, one clear line."""


class DocumentError(PolicyBotError):
    """A knowledge document could not be read or parsed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AddError(PolicyBotError):
    """A document could not be added; nothing was left in the knowledge folder."""


class DownloadError(PolicyBotError):
    """A URL could not be fetched; the message names the URL and what to try."""


class IndexError_(PolicyBotError):
    """The index is missing, incompatible or damaged."""


class IndexLocked(PolicyBotError):
    """Another process is writing this index."""


class VectorStoreUnavailable(PolicyBotError):
    """The vector store (a Milvus server) cannot be reached; its URI is shown without secrets."""


class ModelError(PolicyBotError):
    """The embedding model could not be loaded."""


def last_line(exc: BaseException) -> str:
    """The last line of an exception's text (FAISS and SQLite end with the cause), for one-line messages."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
