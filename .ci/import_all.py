"""Import every module of the installed bot and embeddings packages; fail if one does not import or if the
package is imported from the checkout (argv[1]) instead of the installed wheel."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import bot
import embeddings

checkout = Path(sys.argv[1]).resolve()
failed: list[str] = []
for package in (bot, embeddings):
    origin = Path(package.__file__ or "").resolve()
    print(f"{package.__name__} imported from {origin}")
    if origin.is_relative_to(checkout):
        sys.exit(f"{package.__name__} comes from the checkout {checkout}, not the installed wheel")
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # any failure is a missing base dependency or a broken module
            failed.append(module.name)
            print(f"cannot import {module.name}: {type(error).__name__}: {error}")
if failed:
    sys.exit(f"{len(failed)} modules do not import with the base install")
print("every bot and embeddings module imports with the base install")
