"""The interactive loop: ask questions, see answers as Slack would post them, inspect sources."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer, decode_question
from bot.answering.followup import Turn, turn_of
from bot.errors import QuestionError
from bot.render.terminal import render_sources, render_text

HELP = """Type a question and press Enter; a follow-up ("and the 2012 one?") is read in the context
of this conversation. Commands:
  :sources   show the full passages behind the last answer
  :history   show this conversation's questions and how each was read
  :new       start a new conversation
  :help      this help
  :quit      leave (Ctrl-D works too)"""

ReadLine = Callable[[str], str]  # prompt -> line; raises EOFError at the end
Write = Callable[[str], None]


def run_repl(answerer: Answerer, read_line: ReadLine, write: Write) -> None:
    """Read questions until :quit or end of input; errors in one question never end the loop.
    The session is one conversation (`:new` starts another)."""
    write("PolicyBot: ask about manufacturing and innovation policy. :help for commands.")
    last: Answer | None = None
    turns: list[Turn] = []
    while True:
        try:
            line = read_line("policybot> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if not line:
            continue
        if line in (":quit", ":q", ":exit"):
            return
        if line in (":help", ":h", "?"):
            write(HELP)
        elif line in (":new", ":n"):
            turns.clear()
            write("New conversation: the next question is read on its own.")
        elif line in (":history", ":hi"):
            write(format_history(turns))
        elif line in (":sources", ":s"):
            write(render_sources(last) if last else "Ask a question first; :sources shows the passages behind it.")
        elif line.startswith(":"):
            write(f"Unknown command {line.split()[0]!r}. {HELP}")
        else:
            line, notice = decode_question(line)
            if notice:
                write(notice)
            try:
                last = answerer.ask(line, history=turns)
            except QuestionError as exc:
                write(str(exc))
                continue
            turns.append(turn_of(last))
            write(render_text(last))
        write("")


def format_history(turns: list[Turn]) -> str:
    """The conversation so far: each question, and how it was read when context changed it."""
    if not turns:
        return "No questions yet in this conversation."
    lines = []
    for number, turn in enumerate(turns, start=1):
        lines.append(f"{number}. {turn.question}" + ("  (not answered)" if turn.abstained else ""))
        if turn.interpreted != turn.question:
            lines.append(f"   read as: {turn.interpreted}")
    return "\n".join(lines)


def terminal_reader(history_file: Path) -> ReadLine:
    """prompt_toolkit with persistent history on a terminal."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        history: FileHistory | InMemoryHistory = FileHistory(str(history_file))
    except OSError:
        history = InMemoryHistory()
    session: PromptSession[str] = PromptSession(history=history)
    return lambda prompt: session.prompt(prompt)


def stream_reader(stream: BinaryIO | TextIO | None = None) -> ReadLine:
    """Lines of piped input (tests, scripts; default stdin's bytes), undecodable bytes kept for
    `decode_question` to replace, so one bad line never ends the loop."""
    source = stream if stream is not None else getattr(sys.stdin, "buffer", sys.stdin)

    def read(prompt: str) -> str:
        line = source.readline()
        if not line:
            raise EOFError
        text = line.decode("utf-8", "surrogateescape") if isinstance(line, bytes) else line
        return text.rstrip("\r\n")

    return read
