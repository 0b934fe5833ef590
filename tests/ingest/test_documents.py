"""Reading knowledge documents: good ones parse, bad ones are reported by path with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.errors import DocumentError
from embeddings.ingest.documents import read_document, scan_knowledge

GOOD = """---
title: Key Policies
country: Germany
source_url: https://example.org/de
---

# Key Policies

Some policy text.
"""


def write(root: Path, name: str, data: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_front_matter_becomes_document_metadata(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "de/key.md", GOOD), tmp_path)
    assert doc.path == "de/key.md"
    assert doc.title == "Key Policies"
    assert doc.metadata["country"] == "Germany"
    assert doc.source == "https://example.org/de"
    assert doc.body.lstrip().startswith("# Key Policies")


def test_plain_text_document_takes_its_title_from_the_file_name(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "made-smarter.txt", "A paragraph.\n"), tmp_path)
    assert doc.format == "text"
    assert doc.title == "Made Smarter"
    assert doc.source == "made-smarter.txt"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("latin1.md", "Politique économique".encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 10)"),
        ("empty.md", "  \n\n", "is empty"),
        ("unclosed.md", "---\ntitle: x\n\nbody", "the closing '---' line is missing"),
        ("badyaml.md", "---\ntitle: [x\n---\nbody\n", "broken front matter"),
        ("list.md", "---\n- a\n- b\n---\nbody\n", "expected 'key: value' lines"),
        ("onlymeta.md", "---\ntitle: x\n---\n\n", "has front matter but no text"),
        ("binary.txt", b"abc\x00def", "NUL bytes"),
        ("report.docx", "x", "unsupported format '.docx'"),
    ],
)
def test_unreadable_documents_name_the_file_and_the_reason(
    tmp_path: Path, name: str, data: str | bytes, reason: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(DocumentError) as caught:
        read_document(path, tmp_path)
    assert caught.value.path == name
    assert reason in str(caught.value)
    assert str(caught.value).startswith(name)


def test_one_broken_file_does_not_stop_the_rest_from_being_read(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD)
    write(tmp_path, "b.md", b"\xff\xfe broken")
    write(tmp_path, "c.txt", "Plain text.")
    write(tmp_path, ".hidden/skip.md", GOOD)
    docs, problems = scan_knowledge(tmp_path)
    assert [d.path for d in docs] == ["a.md", "c.txt"]
    assert [p.path for p in problems] == ["b.md"]


def test_special_files_are_reported_unread_and_never_block(tmp_path: Path) -> None:
    import os
    import socket

    write(tmp_path, "good.md", GOOD)
    os.mkfifo(tmp_path / "pipe.md")  # opening it for reading would wait for a writer forever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock.txt"))
    try:
        documents, problems = scan_knowledge(tmp_path)
    finally:
        server.close()
    assert [d.path for d in documents] == ["good.md"]
    assert [str(p) for p in problems] == [
        "pipe.md: is a FIFO (named pipe), not a document, and was not opened (move it out of the knowledge folder)",
        "sock.txt: is a socket, not a document, and was not opened (move it out of the knowledge folder)",
    ]
