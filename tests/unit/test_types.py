"""The type checker passes over the ground floors and the session core.

mypy's configuration is ``[tool.mypy]`` in pyproject.toml: it walks ``vnetdoctor/`` and
excludes every wing except ``probes``, ``knowledge`` and ``session``, so the session
core is checked as soon as it exists. Running it here puts it in ``./bootstrap test``
and therefore in CI.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("probes", "knowledge", "session")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


@pytest.mark.parametrize(
    ("path", "checked"),
    [
        ("vnetdoctor/probes/base.py", True),
        ("vnetdoctor/knowledge/engine.py", True),
        ("vnetdoctor/session/request.py", True),
        ("vnetdoctor/__init__.py", True),
        ("vnetdoctor/sessiondiff.py", False),
        ("vnetdoctor/store/__init__.py", False),
        ("vnetdoctor/tui/app.py", False),
        ("vnetdoctor/commands/diagnose.py", False),
        ("vnetdoctor/cli.py", False),
    ],
)
def test_the_file_list_is_probes_knowledge_and_session(path: str, checked: bool) -> None:
    config = _config()
    assert config["files"] == ["vnetdoctor"]
    assert (re.search(config["exclude"], path) is None) is checked


def _python_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.py")) if folder.is_dir() else 0


@pytest.mark.slow
def test_mypy_finds_no_errors(request: pytest.FixtureRequest) -> None:
    store = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    cache = store.mkdir("mypy") if store is not None else ROOT / ".mypy_cache"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checked = int(re.search(r"no issues found in (\d+) source files", proc.stdout).group(1))
    # Every module of the checked packages, not a handful (the walk follows the symlinks).
    expected = sum(_python_files(ROOT / "vnetdoctor" / name) for name in CHECKED) + 1
    assert checked == expected, proc.stdout
