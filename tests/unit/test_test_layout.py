"""The test tree keeps its shape: a conftest.py per folder, shared code in support
packages imported by package path, and markers that match folders.

* A test module never imports another test module, nor a helper by its bare name (which
  only works through pytest's sys.path insertion, and loads a second copy of the helper
  when another module imports it by package path), and never edits ``sys.path``.
* ``lab`` (root and network namespaces) is the tests/lab folder: tests/lab/conftest.py
  marks everything there, and tests/conftest.py refuses a lab-marked test elsewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
FOLDERS = ("unit", "tui", "lab", "bench")


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__snapshots__" not in p.parts)


def _bare_names() -> set[str]:
    """Module names a file under tests/ would have if imported by its bare name."""
    return {p.stem for p in _modules() if p.stem != "__init__"}


def test_the_walk_sees_the_tree() -> None:
    names = {p.relative_to(TESTS).as_posix() for p in _modules()}
    assert {"conftest.py", "support/fake_engine.py", "tui/support/engine.py", "unit/support/store_fixtures.py"} <= names


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_has_its_conftest(folder: str) -> None:
    assert (TESTS / folder / "conftest.py").is_file()


def _problems(path: Path, bare: set[str], root: Path = TESTS) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            modules = []
        for module in modules:
            top = module.split(".")[0]
            if top in bare or top == "conftest":
                out.append(f"{path.relative_to(root)}:{node.lineno}: imports {module} by its bare name")
            if top == "tests" and module.split(".")[-1].startswith("test_"):
                out.append(f"{path.relative_to(root)}:{node.lineno}: imports the test module {module}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("insert", "append") and ast.unparse(node.func.value) == "sys.path"
                and not path.parent.name == "support"):  # support scripts run as programs
            out.append(f"{path.relative_to(root)}:{node.lineno}: edits sys.path")
    return out


def test_shared_code_is_imported_by_package_path() -> None:
    bare = _bare_names()
    problems = [line for path in _modules() for line in _problems(path, bare)]
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_bare_import_and_a_path_edit(tmp_path: Path) -> None:
    fake = tmp_path / "test_x.py"
    fake.write_text("from fakes_walk import make_app\nimport tests.tui.test_walk_flow\n"
                    "import sys\nsys.path.insert(0, 'x')\n")
    found = _problems(fake, {"fakes_walk"}, root=tmp_path)
    assert len(found) == 3 and "bare name" in found[0] and "test module" in found[1] and "sys.path" in found[2]


def test_lab_marks_only_in_tests_lab() -> None:
    """The collection check in tests/conftest.py, proved on the source: no ``mark.lab`` outside."""
    outside = [
        p.relative_to(TESTS).as_posix()
        for p in _modules()
        if not p.is_relative_to(TESTS / "lab") and p.name != Path(__file__).name
        and "mark.lab" in p.read_text(encoding="utf-8")
    ]
    assert not outside, outside


def test_every_test_under_tests_lab_is_marked_lab(request: pytest.FixtureRequest) -> None:
    """What was collected in this run agrees: lab tests only under tests/lab, all marked."""
    items = request.session.items
    lab_dir = TESTS / "lab"
    assert items
    for item in items:
        marked = item.get_closest_marker("lab") is not None
        assert marked == item.path.is_relative_to(lab_dir), item.nodeid


def test_slow_tests_are_marked_and_still_run_by_default() -> None:
    """``slow`` tells a developer what ``-m "not slow"`` skips; CI (``./bootstrap test -q``)
    and a plain run select nothing away."""
    import tomllib

    root = TESTS.parent
    options = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "-m" not in options["addopts"].split()
    assert "-m" not in (root / ".ci" / "run").read_text(encoding="utf-8").split()
    marked = [p for p in _modules() if "mark.slow" in p.read_text(encoding="utf-8")]
    assert len(marked) >= 5, marked


def test_test_module_names_are_unique_across_folders() -> None:
    """The test folders are not packages: pytest imports each test module by its bare name, so
    two folders with the same file name fail collection of the whole suite (it happened once,
    with tests/lab and tests/unit both holding test_export_language.py)."""
    seen: dict[str, Path] = {}
    twice = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name in seen:
            twice.append(f"{seen[path.name].relative_to(TESTS)} and {path.relative_to(TESTS)}")
        seen.setdefault(path.name, path)
    assert not twice, twice
