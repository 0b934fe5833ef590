"""Every error a PolicyBot user can meet from `bot/`; each message is one line saying what to do.

The search side's errors (documents, the index, the model) are in `embeddings.errors`; all derive
from its `PolicyBotError`, which the command line prints as one line before exiting non-zero.
"""

from __future__ import annotations

from embeddings.errors import PolicyBotError


class ConfigError(PolicyBotError):
    """config.yaml is missing, unreadable or holds a bad value."""


class QuestionError(PolicyBotError):
    """The question cannot be answered as asked (empty, too long)."""


class BatchInputError(PolicyBotError):
    """The file of `ask --batch` cannot be read."""


class StateUnavailable(PolicyBotError):
    """The PostgreSQL server cannot be reached, or the connection to it was lost."""


class StateDatabaseError(PolicyBotError):
    """The database is there but unusable: a bad URL, a file that is not SQLite, a schema from a newer PolicyBot."""


class FeedbackError(StateDatabaseError):
    """The feedback store cannot be opened (a damaged file, or a folder that cannot be written)."""


class PendingFull(OSError):
    """The pending file reached its size limit; the write is refused instead of silently dropped.

    An OSError, not a PolicyBotError: the feedback store treats it as a disk that cannot take the write.
    """


class SlackStartError(PolicyBotError):
    """The Slack bot cannot start: a token is missing or rejected, or Slack is unreachable."""
