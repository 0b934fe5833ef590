"""`policybot ask --batch`: answer a file of questions, one a line, with one answerer.

A line is a plain question, or a JSON object `{"id": ..., "question": ..., "country": ...,
"conversation": ...}` (it starts with `{`). Lines with the same "conversation" are one
conversation, in file order: a follow-up is read in the context of the lines before it. Blank
lines and lines starting with `#` are skipped. A bad line is reported by its number and the
others are still answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer, decode_question
from bot.answering.followup import Turn, turn_of
from bot.errors import BatchInputError, QuestionError
from bot.render.terminal import render_text

KEYS = ("id", "question", "country", "conversation")

Write = Callable[[str], None]


@dataclass(frozen=True)
class BatchQuestion:
    """One question of the file; `id` is the line's "id", else its line number."""

    line: int
    id: str | int
    question: str
    country: str | None = None
    notice: str | None = None  # bytes that were not UTF-8 were replaced
    conversation: str | None = None  # lines with the same id are one conversation


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be asked, and why."""

    line: int
    id: str | int
    error: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "line": self.line, "error": self.error}


@dataclass(frozen=True)
class BatchResult:
    """How many questions were answered, and the numbers of the lines that failed."""

    answered: int
    failed: tuple[int, ...]


def read_lines(stream: Iterable[bytes | str], name: str) -> Iterator[str]:
    """The stream's lines without their line ends, bytes that are not UTF-8 kept (surrogateescape)
    for `decode_question`; a leading byte-order mark dropped. A read error names the file."""
    try:
        for number, raw in enumerate(stream, start=1):
            line = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
            yield (line.removeprefix("\ufeff") if number == 1 else line).rstrip("\r\n")
    except OSError as exc:
        raise BatchInputError(f"cannot read {name}: {exc.strerror or exc}") from exc


def parse_line(number: int, text: str) -> BatchQuestion | BadLine | None:
    """The question on line `number`, why it cannot be asked, or None for a blank or `#` line.

    >>> parse_line(3, '{"id": "q1", "question": "What is PCAST?"}')
    BatchQuestion(line=3, id='q1', question='What is PCAST?', country=None, notice=None, conversation=None)
    >>> parse_line(4, 'What is PCAST?').id
    4
    >>> parse_line(5, '{"question": 7}').error
    '"question" must be a string'
    """
    text, notice = decode_question(text)  # invalid bytes, wherever they are on the line
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if not text.startswith("{"):
        return BatchQuestion(number, number, text, notice=notice)
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadLine(number, number, f"not valid JSON: {exc.msg} (column {exc.colno})")
    ident = item.get("id", number)
    if isinstance(ident, bool) or not isinstance(ident, str | int):
        return BadLine(number, number, '"id" must be a string or an integer')
    if isinstance(ident, str):  # a JSON "\ud800" escape is a lone surrogate: not printable as it is
        ident = decode_question(ident)[0]
    unknown = sorted(set(item) - set(KEYS))
    if unknown:
        return BadLine(number, ident, f"unknown key {unknown[0]!r} (a line may hold {', '.join(KEYS)})")
    question, country = item.get("question"), item.get("country")
    if not isinstance(question, str):
        return BadLine(number, ident, '"question" must be a string' if "question" in item else 'no "question" key')
    if not question.strip():
        return BadLine(number, ident, "the question is empty")
    if country is not None and not isinstance(country, str):
        return BadLine(number, ident, '"country" must be a string')
    conversation = item.get("conversation")
    if conversation is not None and (isinstance(conversation, bool) or not isinstance(conversation, str | int)):
        return BadLine(number, ident, '"conversation" must be a string or an integer')
    question, escaped = decode_question(question)
    country = country if country is None else decode_question(country)[0]
    thread = None if conversation is None else decode_question(str(conversation))[0]
    return BatchQuestion(number, ident, question, country, notice or escaped, thread)


def answer_lines(
    answerer: Answerer,
    lines: Iterable[str],
    out: Write,
    err: Write,
    *,
    as_json: bool = False,
    k: int | None = None,
    country: str | None = None,
) -> BatchResult:
    """Ask each question of `lines` in turn and write its answer as soon as it is made.

    `out` gets one JSON object a line (`as_json`) or each answer as text under a header; `err`
    gets "line N: ..." for every bad line and every notice. A line's "country" overrides `country`.
    """
    answered, failed = 0, []
    conversations: dict[str, list[Turn]] = {}
    for number, text in enumerate(lines, start=1):
        item = parse_line(number, text)
        if item is None:
            continue
        if isinstance(item, BatchQuestion):
            if item.notice:
                err(f"line {number}: {item.notice}")
            turns = conversations.setdefault(item.conversation, []) if item.conversation is not None else []
            try:
                answer = answerer.ask(item.question, k=k, country=item.country or country, history=turns)
            except QuestionError as exc:  # over-long
                item = BadLine(number, item.id, str(exc))
            else:
                turns.append(turn_of(answer))
        if isinstance(item, BadLine):
            failed.append(number)
            err(f"line {number}: {item.error}")
            if as_json:
                out(json.dumps(item.to_dict(), ensure_ascii=False))
            continue
        out(_format(item, answer, as_json, first=answered == 0))
        answered += 1
    return BatchResult(answered, tuple(failed))


def _format(item: BatchQuestion, answer: Answer, as_json: bool, first: bool) -> str:
    """A JSON line of the answer with the line's id and number, or a header and the answer as text."""
    if as_json:
        extra: dict[str, object] = {"notice": item.notice} if item.notice else {}
        if item.conversation is not None:
            extra["conversation"] = item.conversation
        return json.dumps({"id": item.id, "line": item.line, **answer.to_dict(), **extra}, ensure_ascii=False)
    return ("" if first else "\n") + f"== {item.id}: {item.question}\n{render_text(answer)}"
