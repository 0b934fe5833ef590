"""Errors that tell the user what went wrong and what to do about it."""

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


class IndexError_(PolicyBotError):
    """The index is missing, incompatible or damaged."""


class ModelError(PolicyBotError):
    """The embedding model could not be loaded."""
