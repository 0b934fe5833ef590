"""Readers chosen by content: HTML without its navigation, PDFs page by page, metadata from every
source, and bad files skipped with their path and a reason, within bounded time and memory."""

from __future__ import annotations

import random
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest

from embeddings.errors import DocumentError
from embeddings.ingest.documents import ReadLimits, read_document, scan_knowledge
from embeddings.ingest.splitter import SplitterSettings, split_document
from tests.pdf_fixtures import bomb_pdf, china_pdf, scanned_pdf, write_china_pdf

EXTRA = Path(__file__).resolve().parents[1] / "data" / "knowledge_extra"
GERMANY = "germany/key-policies.html"
NAVIGATION = [
    "cookies",
    "Home",
    "Country profiles",
    "About the portal",
    "Contact us",
    "Related pages",
    "Privacy policy",
    "Follow us",
]


def test_html_page_keeps_its_headings_and_lists_and_drops_navigation() -> None:
    doc = read_document(EXTRA / GERMANY, EXTRA)
    assert doc.format == "html"
    for line in NAVIGATION:
        assert line.lower() not in doc.body.lower(), f"navigation line {line!r} was indexed"
    passages = split_document(doc, SplitterSettings())
    sections = {p.section_label for p in passages}
    assert "National Policy > Industrie 4.0" in sections
    assert "National Policy > The High-Tech Strategy (Hightech-Strategie)" in sections
    items = [p.text for p in passages if p.kind == "list_item"]
    assert "Security of networked systems." in items
    assert len(items) == 5


def test_html_metadata_comes_from_meta_tags_and_the_sidecar() -> None:
    doc = read_document(EXTRA / GERMANY, EXTRA)
    assert doc.title == "Key Policies: Germany"  # og:title, not the <title> with the site name
    assert doc.source == "https://policy-portal.example.org/country-profiles/Germany/key-policies"
    assert doc.metadata["publisher"] == "PolicyBot test fixtures"
    assert doc.metadata["date"] == "2026-11-26"
    assert doc.metadata["country"] == "Germany"  # from key-policies.html.meta.yaml


def test_pdf_passages_know_their_page_and_section(tmp_path: Path) -> None:
    doc = read_document(write_china_pdf(tmp_path), tmp_path)
    assert (doc.format, doc.title, doc.metadata["country"]) == ("pdf", "Key Policies: China", "China")
    passages = split_document(doc, SplitterSettings())
    by_text = {p.text: p for p in passages}
    rail = by_text["advanced rail transport equipment"]
    assert (rail.metadata["page"], rail.section_label, rail.kind) == (2, "Made in China 2025", "list_item")
    internet = next(p for p in passages if "Internet Plus action plan" in p.text)
    assert (internet.metadata["page"], internet.section_label) == (3, "Internet Plus")
    assert not any(p.text in ("Overview", "Made in China 2025") for p in passages)  # headings are sections


def test_sidecar_overrides_what_the_document_says(tmp_path: Path) -> None:
    (tmp_path / "plan.pdf").write_bytes(china_pdf())
    (tmp_path / "plan.pdf.meta.yaml").write_text("title: China key policies (2015 edition)\nversion: 2\n")
    doc = read_document(tmp_path / "plan.pdf", tmp_path)
    assert doc.title == "China key policies (2015 edition)"
    assert doc.metadata["author"] == "PolicyBot test fixtures"  # from the PDF info, kept
    assert split_document(doc, SplitterSettings())[0].metadata["version"] == "2"


def test_an_impossible_date_is_kept_as_written_in_front_matter_and_sidecars(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\ndate: 2023-02-30\n---\n\n# A\n\nText about tariffs.\n")
    (tmp_path / "b.md").write_text("# B\n\nText about quotas.\n")
    (tmp_path / "b.md.meta.yaml").write_text("date: 2001-13-45\n")
    docs, problems = scan_knowledge(tmp_path)
    assert problems == []
    assert {d.path: d.metadata["date"] for d in docs} == {"a.md": "2023-02-30", "b.md": "2001-13-45"}


def test_a_misspelt_sidecar_key_is_reported_with_the_sidecar_name(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nText.\n")
    (tmp_path / "a.md.meta.yaml").write_text("contry: France\n")
    docs, problems = scan_knowledge(tmp_path)
    assert docs == []
    assert str(problems[0]).startswith("a.md.meta.yaml: unknown key(s) contry; use title, source_url")


def test_files_are_read_by_content_not_by_name(tmp_path: Path) -> None:
    shutil.copy(EXTRA / GERMANY, tmp_path / "saved-page.txt")
    (tmp_path / "report.md").write_bytes(china_pdf())
    (tmp_path / "page").write_text("<!doctype html><html><body><main><h1>T</h1><p>" + "Policy text. " * 30)
    docs, problems = scan_knowledge(tmp_path)
    assert problems == []
    assert {d.path: d.format for d in docs} == {"page": "html", "report.md": "pdf", "saved-page.txt": "html"}


def _truncated_pdf() -> bytes:
    data = china_pdf()
    return data[: len(data) // 2]


BAD_FILES = {
    "truncated.pdf": (_truncated_pdf(), "is a truncated PDF"),
    "really-binary.html": (random.Random(6).randbytes(20_000) + b"\x00", "contains NUL bytes"),
    "archive.html": (b"PK\x03\x04" + bytes(200), "is a ZIP archive"),
    "slides.docx": (b"PK\x03\x04" + bytes(200), "is a ZIP archive (or a .docx/.xlsx/.pptx file"),
    "scan.pdf": (scanned_pdf(), "has no text layer (scanned?)"),
    "notes.xyz": (b"plain words", "unsupported format '.xyz'"),
    "error-page.pdf": (b"Not found", "is named .pdf but does not start with '%PDF-'"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_refused_with_their_path_and_a_reason(tmp_path: Path, name: str) -> None:
    data, reason = BAD_FILES[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError) as caught:
        read_document(tmp_path / name, tmp_path)
    assert str(caught.value).startswith(f"{name}: ")
    assert reason in caught.value.reason


def test_a_200_mb_file_is_skipped_without_being_read(tmp_path: Path) -> None:
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(200 * 2**20)  # sparse: no disk space used
    started = time.perf_counter()
    with pytest.raises(DocumentError) as caught:
        read_document(tmp_path / "huge.txt", tmp_path)
    assert time.perf_counter() - started < 1.0
    assert str(caught.value) == "huge.txt: is 200 MB, over the 50 MB limit (ingest.max_file_mb)"


def test_a_pdf_compression_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    (tmp_path / "bomb.pdf").write_bytes(bomb_pdf(decompressed_mb=200))  # 200 MB of spaces, ~200 KB on disk
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DocumentError) as caught:
            read_document(tmp_path / "bomb.pdf", tmp_path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "looks like a compression bomb" in str(caught.value)
    assert elapsed < 10
    assert peak < 190 * 2**20, f"peak {peak / 2**20:.0f} MB: the stream was inflated"


def test_pdfs_over_the_page_cap_are_skipped(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="has 3 pages, over the limit of 2"):
        read_document(write_china_pdf(tmp_path), tmp_path, ReadLimits(max_pdf_pages=2))


def test_bad_files_are_reported_and_everything_else_is_read(tmp_path: Path) -> None:
    for name, (data, _) in BAD_FILES.items():
        (tmp_path / "bad" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "bad" / name).write_bytes(data)
    (tmp_path / "bad" / "bomb.pdf").write_bytes(bomb_pdf(decompressed_mb=100))
    with (tmp_path / "bad" / "huge.md").open("wb") as handle:
        handle.truncate(200 * 2**20)
    shutil.copytree(EXTRA / "germany", tmp_path / "germany")
    write_china_pdf(tmp_path / "china")
    started = time.perf_counter()
    docs, problems = scan_knowledge(tmp_path)
    assert time.perf_counter() - started < 15
    assert [d.path for d in docs] == ["china/key-policies.pdf", GERMANY]
    assert sorted(p.path for p in problems) == sorted(f"bad/{n}" for n in [*BAD_FILES, "bomb.pdf", "huge.md"])


NAV_ONLY = (
    b"<!DOCTYPE html><html><head><title>Ministry of Industry</title></head><body><nav><ul>"
    b'<li><a href="/">Home</a></li><li><a href="/about">About us</a></li><li><a href="/news">News</a></li>'
    b'</ul></nav><main><p><a href="/">Home</a></p></main><footer>(c) 2024 Ministry</footer></body></html>'
)
NGINX_404 = (
    b"<html>\n<head><title>404 Not Found</title></head>\n<body>\n"
    b"<center><h1>404 Not Found</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
)
PAGES_WITHOUT_TEXT = {
    "menu.html": (NAV_ONLY, "has no main text, only short lines like navigation ('Home', 'About us', 'News')"),
    "plan.pdf": (NGINX_404, "is named .pdf but is a web page that looks like an error page ('404 Not Found')"),
    "moved.html": (
        b"<html><head><title>Page not found | Ministry</title></head><body><main><h1>Page not found</h1>"
        b"<p>Sorry, the page you are looking for does not exist or has been moved.</p></main></body></html>",
        "looks like an error page ('Page not found | Ministry')",
    ),
    "denied.html": (
        b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>You don't have permission"
        b' to access "http://www.example.gov/plan.pdf" on this server.<p>Reference #18.2f3e</p></body></html>',
        "looks like an error page ('Access Denied')",
    ),
}


@pytest.mark.parametrize("name", sorted(PAGES_WITHOUT_TEXT))
def test_pages_without_real_text_are_skipped_with_the_reason(tmp_path: Path, name: str) -> None:
    data, reason = PAGES_WITHOUT_TEXT[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError) as caught:
        read_document(tmp_path / name, tmp_path)
    assert str(caught.value).startswith(f"{name}: {reason}")


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Office hours", "The grants office is closed on Fridays."),
        ("Access denied: how to appeal", "Write to the ministry within 30 days of the decision."),
        ("Tariff rates", "| Country | Rate |\n|---|---|\n| Germany | 15% |"),
    ],
)
def test_short_real_documents_are_kept(tmp_path: Path, title: str, text: str) -> None:
    rows = "".join(f"<tr><td>{c}</td><td>{r}</td></tr>" for c, r in (("Country", "Rate"), ("Germany", "15%")))
    body = f"<table>{rows}</table>" if text.startswith("|") else f"<p>{text}</p>"
    page = tmp_path / "page.html"
    page.write_text(f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>")
    doc = read_document(page, tmp_path)
    assert doc.title == title and ("Germany" in doc.body if text.startswith("|") else text in doc.body)
