"""No module grows past a size one reader can hold in their head.

Issue 9 split the store, the lab's scenarios and the cause catalogue, each of which
had grown to 750-1000 lines mixing several concerns. This test keeps that from
happening again: a module under probes/, knowledge/, tui/ or vnetdoctor/ that passes
:data:`LIMIT` lines fails here, and is split along its seams rather than allowed to
grow. The modules that were already over when the limit was set are listed in
:data:`NOT_YET_SPLIT` with the size they had; they may shrink but not grow, and an
entry must be removed once its module is split, so the list can only get shorter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The packages whose modules are held to the limit (tui/, knowledge/ and probes/ are
# also reachable through the vnetdoctor/ symlinks; each file is counted once).
TREES = ("probes", "knowledge", "tui", "vnetdoctor")
LIMIT = 400  # issue 9: "no module over ~400 lines"

# Modules over LIMIT when the limit was set, with their size then (lines). Never add
# an entry: split the module instead. Remove an entry when its module is split.
# Empty since issue 9 split the walk screen (tui/screens/walk.py, 677) into its parts.
NOT_YET_SPLIT: dict[str, int] = {}


def _modules() -> dict[str, int]:
    """Every Python module of the trees, by path relative to the repository, with its line count."""
    sizes: dict[str, int] = {}
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            real = path.resolve()
            if real.is_relative_to(ROOT / ".venv"):
                continue
            rel = real.relative_to(ROOT).as_posix()
            if rel not in sizes:
                sizes[rel] = len(real.read_text(encoding="utf-8").splitlines())
    return sizes


def over_limit(sizes: dict[str, int], allowed: dict[str, int], limit: int = LIMIT) -> list[str]:
    """What is wrong with ``sizes`` against ``limit`` and the allow-list, one line each (empty: fine)."""
    problems = []
    for rel, lines in sorted(sizes.items()):
        ceiling = allowed.get(rel)
        if ceiling is None and lines > limit:
            problems.append(f"{rel}: {lines} lines, over the limit of {limit}: split it along its seams")
        elif ceiling is not None and lines > ceiling:
            problems.append(f"{rel}: {lines} lines, grew past its allowed {ceiling}: split it, do not grow it")
        elif ceiling is not None and lines <= limit:
            problems.append(f"{rel}: {lines} lines, within the limit now: remove it from NOT_YET_SPLIT")
    for rel in sorted(set(allowed) - set(sizes)):
        problems.append(f"{rel}: listed in NOT_YET_SPLIT but no longer exists: remove the entry")
    return problems


def test_the_trees_hold_modules() -> None:
    """The walk finds the modules (a wrong root would make the size test pass vacuously)."""
    sizes = _modules()
    assert "knowledge/catalog.py" in sizes
    assert "vnetdoctor/store/core.py" in sizes
    assert "tui/screens/packets.py" in sizes
    assert len(sizes) > 100


def test_no_module_grows_past_the_limit() -> None:
    problems = over_limit(_modules(), NOT_YET_SPLIT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("sizes", "allowed", "fragment"),
    [
        ({"a.py": LIMIT + 1}, {}, "over the limit"),
        ({"a.py": 600}, {"a.py": 500}, "grew past"),
        ({"a.py": LIMIT}, {"a.py": 500}, "remove it from NOT_YET_SPLIT"),
        ({}, {"a.py": 500}, "no longer exists"),
    ],
)
def test_each_rule_fails_when_broken(sizes: dict[str, int], allowed: dict[str, int], fragment: str) -> None:
    """A module over the limit, an allowed one that grew, and stale entries are each reported."""
    problems = over_limit(sizes, allowed)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_within_limits_is_fine() -> None:
    assert over_limit({"a.py": LIMIT, "b.py": 700}, {"b.py": 700}) == []
