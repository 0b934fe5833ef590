"""`policybot add` and `policybot sources`: documents come in from files and URLs (served here from a
local server on 127.0.0.1, never the internet), with their metadata, or not at all."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import load_settings
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.conftest import FakeEmbedder, write_config
from tests.pdf_fixtures import china_pdf

EXTRA = Path(__file__).resolve().parents[1] / "data" / "knowledge_extra"
GERMANY_HTML = (EXTRA / "germany" / "key-policies.html").read_bytes()


class _Site(BaseHTTPRequestHandler):
    """A tiny web site with good pages and every kind of bad answer."""

    def do_GET(self) -> None:
        path = self.path
        if path == "/country-profiles/Germany/key-policies":
            self._send(200, GERMANY_HTML, "text/html; charset=utf-8")
        elif path == "/reports/plan.pdf":
            self._send(200, china_pdf(), "application/pdf")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, b"<html><body><p>late</p></body></html>", "text/html")
        elif path.startswith("/loop/"):
            self.send_response(302)
            self.send_header("Location", f"/loop/{int(path.rsplit('/', 1)[1]) + 1}")
            self.end_headers()
        elif path == "/binary.html":
            self._send(200, bytes(range(256)) * 40, "text/html")
        elif path == "/declared-huge.pdf":
            self.send_response(200)
            self.send_header("Content-Length", str(200 * 2**20))
            self.end_headers()
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(10_000):
                    self.wfile.write(b"policy " * 10_000)
            except OSError:
                pass  # the client hung up, as it should
        else:
            self._send(404, b"not here", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Base URL of the local site; proxies are switched off so requests stay on loopback."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            patch.delenv(name, raising=False)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        server.server_close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "existing.md").write_text("# Existing\n\nA document that is already there.\n")
    extra = "ingest:\n  download_timeout: 1\n  max_file_mb: 1\n  max_redirects: 5\n"
    return write_config(tmp_path / "config.yaml", knowledge, tmp_path / "index", extra)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_url_is_downloaded_into_a_country_folder_with_its_metadata(
    site: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{site}/country-profiles/Germany/key-policies"
    args = ["add", url, "--country", "Germany", "--date", "2026-11-26", "--no-index"]
    assert main(["--config", str(config), *args]) == 0
    assert "added " in capsys.readouterr().out
    knowledge = tmp_path / "knowledge"
    assert _files(knowledge) == [
        "existing.md",
        "germany",
        "germany/key-policies.html",
        "germany/key-policies.html.meta.yaml",
    ]
    sidecar = yaml.safe_load((knowledge / "germany" / "key-policies.html.meta.yaml").read_text())
    assert sidecar["source_url"] == url
    assert (sidecar["country"], str(sidecar["date"])) == ("Germany", "2026-11-26")
    assert "retrieved" in sidecar

    settings = load_settings(config)
    build_index(settings.knowledge_dir, settings.index_dir, FakeEmbedder(), settings.splitter)
    assert main(["--config", str(config), "sources"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("2 documents, 10 passages in index ")
    assert "germany/key-policies.html: 9 passages\n    Key Policies: Germany\n" in listing
    assert f"    {url}\n" in listing
    assert "publisher PolicyBot test fixtures; country Germany; date 2026-11-26" in listing


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/slow", "no answer within 1s (ingest.download_timeout); try again"),
        ("/loop/0", "redirected more than 5 times (a redirect loop?)"),
        ("/missing.pdf", "the server answered 404 Not Found; check the address"),
        ("/binary.html", "contains NUL bytes; it looks like a binary file; not added"),
        ("/declared-huge.pdf", "is 200 MB, over the 1 MB limit"),
        ("/endless", "is over the 1 MB limit (ingest.max_file_mb)"),
    ],
)
def test_a_bad_url_gets_a_clear_message_and_adds_nothing(
    site: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, reason: str
) -> None:
    before = _files(tmp_path / "knowledge")
    started = time.perf_counter()
    assert main(["--config", str(config), "add", f"{site}{path}", "--country", "Germany"]) == 1
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"policybot: {site}{path}")
    assert reason in err
    assert "Traceback" not in err
    assert [f for f in _files(tmp_path / "knowledge") if f != "germany"] == before  # nothing half-added


def test_a_local_pdf_is_copied_indexed_and_cited_by_page(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    embedder: SentenceTransformerEmbedder,
) -> None:
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings, **_: embedder)  # the real model, loaded once
    source = tmp_path / "downloads" / "Made in China.pdf"
    source.parent.mkdir()
    source.write_bytes(china_pdf())
    args = ["add", str(source), "--country", "China", "--publisher", "PolicyBot test fixtures", "--version", "1"]
    assert main(["--config", str(config), *args]) == 0
    out = capsys.readouterr().out
    assert "added " in out and "china/made-in-china.pdf (pdf, 3 pages with text): Key Policies: China" in out
    assert "2 documents" in out  # indexed straight away
    assert (tmp_path / "knowledge" / "china" / "made-in-china.pdf").read_bytes() == source.read_bytes()

    assert main(["--config", str(config), "ask", "Which ministry leads manufacturing policy in China?"]) == 0
    answer = capsys.readouterr().out
    assert "Ministry of Industry and Information Technology" in answer
    source = "Key Policies: China — Overview, p. 1\n    china/made-in-china.pdf\n    PolicyBot test fixtures; version 1"
    assert source in answer


def test_adding_over_an_existing_document_or_a_missing_file_is_refused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "existing.md"
    shutil.copy(tmp_path / "knowledge" / "existing.md", copy)
    before = _files(tmp_path / "knowledge")
    assert main(["--config", str(config), "add", str(copy), "--no-index"]) == 1
    assert "already exists; remove it first or choose another name with --name" in capsys.readouterr().err
    assert main(["--config", str(config), "add", str(tmp_path / "nope.pdf"), "--no-index"]) == 1
    assert "nope.pdf: no such file" in capsys.readouterr().err
    assert _files(tmp_path / "knowledge") == before
