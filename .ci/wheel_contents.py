"""Fail when a file under bot/ or embeddings/ in the source tree (argv[1]) is missing from the wheel (argv[2]),
such as a data file the package reads at run time that setuptools left out."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

source, wheel = Path(sys.argv[1]), Path(sys.argv[2])
in_source = {
    path.relative_to(source).as_posix()
    for package in ("bot", "embeddings")
    for path in (source / package).rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
}
in_wheel = set(zipfile.ZipFile(wheel).namelist())
missing = sorted(in_source - in_wheel)
if missing:
    sys.exit(
        "not in the wheel (list them under [tool.setuptools.package-data] in pyproject.toml):\n  "
        + "\n  ".join(missing)
    )
print(f"the wheel holds all {len(in_source)} files of bot/ and embeddings/")
