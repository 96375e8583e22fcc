"""The production source files, for the tests that read the tree (hygiene, syntax-tree rules)."""

from __future__ import annotations

import os
from pathlib import Path

import vnetdoctor


def production_files() -> list[Path]:
    """Every .py file of the installed package, once (probes/knowledge/tui are symlinked in)."""
    seen: dict[Path, Path] = {}
    for top in vnetdoctor.__path__:
        for folder, _dirs, files in os.walk(top, followlinks=True):
            for name in files:
                if name.endswith(".py"):
                    path = Path(folder, name)
                    seen.setdefault(path.resolve(), path)
    return sorted(seen.values())
