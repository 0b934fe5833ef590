"""`policybot add`: copy a file or download a URL into the knowledge folder, with its metadata.

The document is written under a hidden temporary name, read once with the same readers the
index uses, and only then moved into place (with its `NAME.meta.yaml` sidecar), so a failed
download or an unreadable file never leaves anything half-added in `knowledge/`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from embeddings.atomic import atomic_write_text, fsync_path
from embeddings.errors import AddError, DocumentError
from embeddings.ingest.documents import Document, read_document
from embeddings.ingest.download import download
from embeddings.ingest.readers import MB, ReadLimits, sidecar_path
from embeddings.ingest.readers.sniff import HEAD_BYTES, sniff

_EXTENSIONS = {"pdf": ".pdf", "html": ".html", "markdown": ".md", "text": ".txt"}
_CONTENT_TYPES = {"text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text"}


class IngestSettings(ReadLimits):
    """config.yaml `ingest:`: the bounds on reading a document, and on downloading one with `policybot add URL`."""

    download_timeout: float = Field(30, gt=0, le=600, description="`policybot add URL`: seconds for the download")
    max_redirects: int = Field(5, ge=0, le=10, description="`policybot add URL`: redirects followed")


@dataclass(frozen=True)
class Added:
    path: Path  # where the document now lives
    document: Document  # as the index will read it


def add_document(
    source: str,
    knowledge_dir: Path,
    metadata: dict[str, Any],
    settings: IngestSettings,
    name: str | None = None,
) -> Added:
    """Copy (path) or download (URL) `source` into `knowledge_dir`, under a country folder if given.

    The file is named after its source (or `name`), with the extension of the format it holds.

    `metadata` (title, publisher, country, date...) goes into the sidecar with, for URLs,
    `source_url` and the `retrieved` date.
    """
    folder = knowledge_dir / _slug(str(metadata["country"])) if metadata.get("country") else knowledge_dir
    folder.mkdir(parents=True, exist_ok=True)
    is_url = bool(re.match(r"[a-z][a-z0-9+.-]*://", source, re.IGNORECASE))
    if is_url:
        fetched = download(source, folder, settings.max_bytes, settings.download_timeout, settings.max_redirects)
        tmp, origin = fetched.path, fetched.url
        metadata = {"source_url": fetched.url, "retrieved": datetime.now(UTC).date().isoformat(), **metadata}
        last = Path(origin.split("?")[0].split("#")[0].rstrip("/")).name
        stem, suffix = _slug(Path(last).stem or "page"), Path(last).suffix.lower()
        hint = _CONTENT_TYPES.get(fetched.content_type)
    else:
        tmp = _copy_in(Path(source).expanduser(), folder, settings)
        origin, stem, suffix, hint = source, _slug(Path(source).stem), Path(source).suffix.lower(), None
    staged: list[Path] = [tmp]
    try:
        kind = _kind(tmp, suffix, hint, origin)
        final_name = f"{_slug(Path(name).stem) if name else stem}{_EXTENSIONS[kind]}"
        target = folder / final_name
        if target.exists() or sidecar_path(target).exists():
            raise AddError(f"{target} already exists; remove it first or choose another name with --name")
        checked = tmp.with_name(f"{tmp.stem}-{final_name}")  # hidden, but with the real extension
        os.replace(tmp, checked)
        staged = [checked]
        try:
            read_document(checked, folder, settings)  # fails here, not later in `policybot index`
        except DocumentError as exc:
            raise AddError(f"{origin}: {exc.reason}; not added") from None
        if metadata:
            atomic_write_text(sidecar_path(target), yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True))
            staged.append(sidecar_path(target))
        os.replace(checked, target)
        staged = []
        fsync_path(folder)
        return Added(target, read_document(target, knowledge_dir, settings))
    finally:
        for path in staged:
            path.unlink(missing_ok=True)


def _copy_in(path: Path, folder: Path, limits: ReadLimits) -> Path:
    """A hidden copy of a local file in `folder`, refused before copying if too big."""
    if not path.is_file():
        raise AddError(f"{path}: no such file; give a path to a document or an http(s) URL")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise AddError(
            f"{path}: is {size / MB:.0f} MB, over the {limits.max_bytes / MB:g} MB limit (ingest.max_file_mb)"
        )
    fd, tmp = tempfile.mkstemp(prefix=".add-", suffix=".part", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(path, tmp)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AddError(f"{path}: cannot be copied ({exc.strerror or exc})") from exc
    return Path(tmp)


def _kind(path: Path, suffix: str, hint: str | None, origin: str) -> str:
    """The document's format from its content, its original extension, or the server's content type."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise AddError(f"{origin}: is empty; not added")
    try:
        return sniff(head, suffix, origin)
    except DocumentError as exc:
        if hint is None or "unsupported format" not in exc.reason:
            raise AddError(f"{exc}; not added") from None
        return hint


def _slug(text: str) -> str:
    """A safe file or folder name: 'United Kingdom' -> 'united-kingdom'."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")
    return slug or "document"
