"""Property-based: any bytes under any document suffix give a document or a DocumentError naming the file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from embeddings.errors import DocumentError
from embeddings.ingest.documents import read_document
from embeddings.ingest.readers import ReadLimits
from embeddings.ingest.splitter import SplitterSettings, split_document
from tests.strategies import FAST, any_text, markdownish

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


@FAST
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
            doc = read_document(path, root, ReadLimits(max_read_seconds=5))
        except DocumentError as exc:
            assert str(exc).startswith(f"sub/fuzzed{suffix}: ") and exc.reason.strip()
            assert "\n" not in str(exc).rstrip(), "one clear line"
            return
        assert doc.path == f"sub/fuzzed{suffix}" and doc.body.strip()
        assert isinstance(doc.title, str) and isinstance(doc.source, str)
        split_document(doc, SplitterSettings())  # whatever a reader accepts, the splitter can cut
