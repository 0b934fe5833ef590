"""Property-based: the splitter turns any text into well-formed passages, and keeps PDF pages apart."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from embeddings.ingest.documents import Document
from embeddings.ingest.readers import Page
from embeddings.ingest.splitter import SplitterSettings, split_document
from tests.strategies import FAST, any_text, markdownish, nested_markdown


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
