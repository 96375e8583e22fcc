"""Production code behaves the same under pytest as in an operator's terminal, and never
hides a broken import of its own.

* Nothing under ``vnetdoctor`` asks whether it runs under pytest (``PYTEST_CURRENT_TEST``,
  ``"pytest" in sys.modules``): a test would then check something production never
  does. Test-only behaviour is an explicit setting the test conftest turns on (e.g.
  ``VNETDOCTOR_STRICT_TEMPLATES``).
* ``except ImportError`` guards only a genuinely optional third-party import, and says
  why on the ``except`` line. Around one of the project's own modules it would turn a
  bug (a typo, a circular import) into a silently missing feature.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.unit.support.source_tree import production_files

OWN = ("vnetdoctor", "probes", "knowledge", "tui")


def test_production_files_are_the_whole_tree() -> None:
    names = {p.resolve().parent.name for p in production_files()}
    assert {"vnetdoctor", "probes", "knowledge", "tui", "screens", "commands", "lab"} <= names
    assert len(production_files()) > 100


PYTEST_PROBES = ("PYTEST_CURRENT_TEST", '"pytest" in sys.modules', "'pytest' in sys.modules")


def test_no_production_code_asks_whether_it_runs_under_pytest() -> None:
    found = [
        f"{path}:{n}: {line.strip()}"
        for path in production_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(probe in line for probe in PYTEST_PROBES)
    ]
    assert not found, "production code depends on pytest:\n" + "\n".join(found)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in ("ImportError", "ModuleNotFoundError") for k in kinds)


def _imports_in(body: list[ast.stmt]) -> Iterator[str]:
    """Names imported by ``body``: statements, and ``importlib.import_module`` (as "<dynamic>"
    unless its argument is a literal)."""
    for node in (n for stmt in body for n in ast.walk(stmt)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            arg = node.args[0] if node.args else None
            yield arg.value if isinstance(arg, ast.Constant) else "<dynamic>"


def _own(module: str) -> bool:
    return module.startswith(".") or module == "<dynamic>" or module.split(".")[0] in OWN


def import_guards() -> Iterator[tuple[Path, int, list[str], str]]:
    """(file, line of the except, modules the try imports, the except line's text)."""
    for path in production_files():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    if handler.type is not None and _catches_import_error(handler):
                        yield path, handler.lineno, list(_imports_in(node.body)), lines[handler.lineno - 1]


def test_import_guards_are_found() -> None:
    """The scan sees the guards that are allowed (libvirt-python is optional at run time)."""
    guarded = {m for _p, _n, modules, _l in import_guards() for m in modules}
    assert "libvirt" in guarded


def test_no_import_error_guard_around_the_projects_own_modules() -> None:
    bad = [f"{p}:{n}: guards {modules}" for p, n, modules, _l in import_guards() if any(map(_own, modules))]
    assert not bad, "except ImportError around the project's own modules:\n" + "\n".join(bad)


def test_each_third_party_import_guard_says_why() -> None:
    silent = [f"{p}:{n}: {line.strip()}" for p, n, _m, line in import_guards() if "#" not in line]
    assert not silent, "an except ImportError without a comment saying why the import is optional:\n" + "\n".join(
        silent
    )
