"""Property-based tests (hypothesis): arbitrary input never crashes a reader, the splitter, config
loading or the answerer; every failure is a `PolicyBotError` that names the input."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.config import Settings, load_settings
from bot.errors import ConfigError, QuestionError
from embeddings.errors import DocumentError
from embeddings.ingest.documents import Document, read_document
from embeddings.ingest.readers import Page, ReadLimits
from embeddings.ingest.splitter import SplitterSettings, split_document

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
READERS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with everything that trips parsers: control characters, surrogate-free Unicode, Markdown syntax.
MARKDOWN_BITS = st.sampled_from(
    ["#", "##", "> ", "- ", "* ", "1. ", "```", "    ", "\n", "\n\n", "---", "|", "<div>", "[x](y)", "**", ":", ". "]
)
any_text = st.text(st.characters(codec="utf-8"), max_size=400)
markdownish = st.lists(st.one_of(MARKDOWN_BITS, any_text), max_size=40).map("".join)


def nested_markdown(depth: int) -> str:
    """Quotes inside list items inside quotes..., `depth` levels deep, then a sentence."""
    prefix = "".join("> " if level % 2 else "- " for level in range(depth))
    return f"# Title\n\n{prefix}Deep sentence one. Deep sentence two.\n"


# -- Splitter --------------------------------------------------------------------------------------


@FAST
@given(body=markdownish, fmt=st.sampled_from(["markdown", "text", "html"]), max_chars=st.integers(100, 2000))
@example(body=nested_markdown(2000), fmt="markdown", max_chars=1200)
@example(body="- " * 5000 + "x", fmt="markdown", max_chars=1200)
@example(body="> " * 5000 + "x", fmt="markdown", max_chars=1200)
@example(body="a" * 50_000, fmt="text", max_chars=100)
@example(body="\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029 word", fmt="text", max_chars=100)
def test_splitter_turns_any_text_into_well_formed_passages(body: str, fmt: str, max_chars: int) -> None:
    doc = Document("dir/doc.md", fmt, "Doc", body, "dir/doc.md")
    passages = split_document(doc, SplitterSettings(max_chars=max_chars))
    assert len({p.id for p in passages}) == len(passages)
    for position, passage in enumerate(passages):
        assert passage.position == position and passage.doc == "dir/doc.md"
        assert passage.text.strip(), "no empty passages"
        assert passage.sentences, "every passage has at least one sentence to quote"
        for start, end in passage.sentences:
            assert 0 <= start < end <= len(passage.text)
    assert split_document(doc, SplitterSettings(max_chars=max_chars)) == passages  # stable ids and text


@FAST
@given(pages=st.lists(st.tuples(markdownish, st.lists(any_text, max_size=3)), min_size=1, max_size=5))
def test_splitter_keeps_pdf_pages_apart_for_any_page_text(pages: list[tuple[str, list[str]]]) -> None:
    doc_pages = tuple(Page(n, text, tuple(section)) for n, (text, section) in enumerate(pages, start=1))
    doc = Document("a.pdf", "pdf", "A", "\n\n".join(p.text for p in doc_pages), "a.pdf", pages=doc_pages)
    for passage in split_document(doc, SplitterSettings()):
        assert 1 <= passage.metadata["page"] <= len(pages)
        assert passage.text.strip()


# -- Document readers ------------------------------------------------------------------------------

PDF_SKELETON = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
)
raw_bytes = st.one_of(
    st.binary(max_size=2000),
    any_text.map(lambda t: t.encode("utf-8")),
    markdownish.map(lambda t: t.encode("utf-8")),
    st.tuples(any_text, markdownish).map(lambda p: f"---\n{p[0]}\n---\n{p[1]}".encode()),  # front matter, maybe bad
    st.tuples(any_text, any_text).map(lambda p: f"---\n{p[0]}\n{p[1]}".encode()),  # front matter never closed
    st.binary(max_size=600).map(lambda b: b"<!doctype html><html><body>" + b + b"</body></html>"),
    st.binary(max_size=600).map(lambda b: PDF_SKELETON + b + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
    st.binary(max_size=600).map(lambda b: b"%PDF-1.7\n" + b + b"\n%%EOF"),
)


@READERS
@given(raw=raw_bytes, suffix=st.sampled_from([".md", ".txt", ".html", ".pdf"]))
@example(raw=b"---\na: [unclosed\n---\nbody", suffix=".md")
@example(raw=b"---\n- a list\n---\nbody", suffix=".md")
@example(raw=b"---\ndate: 2001-13-45\n---\nbody", suffix=".md")
@example(raw=b"---\n!!python/object:os.system {}\n---\nbody", suffix=".md")
@example(raw=b"---\na: &a [*a]\n---\nbody", suffix=".md")
@example(raw=b"\xef\xbb\xbf", suffix=".txt")
@example(raw=b"<html>" + b"<div>" * 5000 + b"text", suffix=".html")
def test_readers_return_a_document_or_a_document_error_naming_the_file(raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "sub" / f"fuzzed{suffix}"
        path.parent.mkdir()
        path.write_bytes(raw)
        try:
            doc = read_document(path, root, ReadLimits(max_seconds=5))
        except DocumentError as exc:
            assert str(exc).startswith(f"sub/fuzzed{suffix}: ") and exc.reason.strip()
            assert "\n" not in str(exc).rstrip(), "one clear line"
            return
        assert doc.path == f"sub/fuzzed{suffix}" and doc.body.strip()
        assert isinstance(doc.title, str) and isinstance(doc.source, str)
        split_document(doc, SplitterSettings())  # whatever a reader accepts, the splitter can cut


# -- Config loading --------------------------------------------------------------------------------

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


# -- Answerer (real model, real index) -------------------------------------------------------------

short_text = st.text(st.characters(codec="utf-8"), max_size=120)  # long questions only cost model time
questions = st.one_of(
    short_text,
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So"]), max_size=120),
    st.lists(st.one_of(MARKDOWN_BITS, short_text), max_size=4).map("".join),
    st.tuples(st.sampled_from(["What is ", "List all ", "Which year ", "Who is "]), short_text).map("".join),
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=questions)
@example(question="")
@example(question="\x00\x01\x02")
@example(question="\u200b\u200d\ufeff")
@example(question="x" * 1_000_000)
@example(question=" " * 1_000_000 + "What pillars do the AMP recommendations rest on?")
@example(question=nested_markdown(500))
@example(question="---\ntitle: [unclosed\n---\nWhat pillars?")
@example(question="<!channel> <@U123> <https://evil|click> What pillars do the AMP recommendations rest on?")
@example(question="🏭" * 300)
def test_any_question_gets_an_answer_or_a_question_error(answerer: Answerer, question: str) -> None:
    try:
        answer = answerer.ask(question)
    except QuestionError as exc:
        assert str(exc) and len(str(exc)) < 300, "a short hint, not the question echoed back"
        return
    assert isinstance(answer, Answer)
    assert answer.abstained or answer.quotes
    for quote in answer.quotes:  # verbatim: every quote is a slice of the passage it cites (or its heading)
        cited = answer.citations[quote.citation - 1].passage
        assert quote.text in (cited.section if quote.heading else cited.text)
