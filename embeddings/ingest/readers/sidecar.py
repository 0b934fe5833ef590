"""Sidecar metadata: `NAME.meta.yaml` beside a document (e.g. `plan.pdf.meta.yaml`).

Its keys override what the document itself says (front matter, meta tags, PDF info), so a
curator can fix a title or add a country and a date to any format:

    title: 2012 National Strategic Plan for Advanced Manufacturing
    publisher: National Science and Technology Council
    country: United States
    date: 2012-02-22
    source_url: https://example.gov/plan.pdf
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from embeddings.errors import DocumentError
from embeddings.ingest.readers.text import TextDatesLoader

SIDECAR_SUFFIX = ".meta.yaml"
KEYS = ("title", "source_url", "publisher", "author", "country", "date", "version", "site", "retrieved")
MAX_SIDECAR_BYTES = 64 * 1024


def sidecar_path(document: Path) -> Path:
    """Where the metadata of `document` lives: `plan.pdf` -> `plan.pdf.meta.yaml`."""
    return document.with_name(document.name + SIDECAR_SUFFIX)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def read_sidecar(document: Path, rel: str) -> dict[str, Any]:
    """The sidecar's keys, or {} when there is none; a broken one names itself and the problem."""
    path = sidecar_path(document)
    if not path.is_file():
        return {}
    name = f"{rel}{SIDECAR_SUFFIX}"
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise DocumentError(name, f"is over {MAX_SIDECAR_BYTES // 1024} KB; it should hold a few 'key: value' lines")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=TextDatesLoader)  # dates stay as written
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, RecursionError) as exc:
        raise DocumentError(name, f"cannot be read as YAML ({str(exc).splitlines()[0]})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentError(name, "expected 'key: value' lines")
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise DocumentError(name, f"unknown key(s) {', '.join(unknown)}; use {', '.join(KEYS)}")
    return {str(k): v for k, v in data.items() if v not in (None, "")}
