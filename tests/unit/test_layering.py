"""The layers of architecture.md hold: the domain never imports Textual, and the
command line's start-up path imports neither scapy nor libvirt (they load lazily).

The floors themselves (who may import whom) are import-linter contracts in
pyproject.toml; the tests here run them, prove each one can fail, and check at run
time what a static graph cannot see (modules loaded by name, what is loaded at all).
"""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vnetdoctor.knowledge
import vnetdoctor.probes

HEADLESS = sorted(
    [f"vnetdoctor.probes.{m.name}" for m in pkgutil.iter_modules(vnetdoctor.probes.__path__)]
    + [f"vnetdoctor.knowledge.{m.name}" for m in pkgutil.iter_modules(vnetdoctor.knowledge.__path__)]
    + ["vnetdoctor.store", "vnetdoctor.lab", "vnetdoctor.console_report", "vnetdoctor.commands.diagnose"]
    + ["vnetdoctor.session", "vnetdoctor.session.sinks", "vnetdoctor.session.targets", "vnetdoctor.session.request"]
)


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_probes_knowledge_and_store_never_import_textual() -> None:
    assert len(HEADLESS) > 40  # the whole domain, not a sample
    loaded = _loaded_after("\n".join(f"import {m}" for m in HEADLESS))
    assert "textual" not in loaded


def test_start_up_path_is_light() -> None:
    loaded = _loaded_after("import vnetdoctor.cli\nvnetdoctor.cli.build_parser()")
    for heavy in ("scapy", "libvirt", "textual", "pyroute2", "sqlite_utils"):
        assert heavy not in loaded, heavy


def test_the_target_check_and_the_engine_load_no_pyroute2() -> None:
    """Everything `diagnose` does before its first probe (the target checked against the
    sender's subnets, the engine built) leaves pyroute2 and asyncio unloaded: they cost
    start-up time (bench netlink: CLI start to first probe) and load with the first probe."""
    loaded = _loaded_after(
        "from vnetdoctor.knowledge.target_kind import not_a_host\n"
        "from vnetdoctor.probes.vantage import LOCAL\n"
        "not_a_host('192.0.2.77', [LOCAL])\n"
        "import vnetdoctor.commands.diagnose, vnetdoctor.session, vnetdoctor.knowledge.engine\n"
        "import vnetdoctor.probes.base as b\nb.load_all()"
    )
    assert "pyroute2" not in loaded and "asyncio" not in loaded


def test_engine_import_does_not_load_scapy_or_libvirt() -> None:
    loaded = _loaded_after("import vnetdoctor.knowledge.engine\nimport vnetdoctor.probes.base as b\nb.load_all()")
    assert "scapy" not in loaded and "libvirt" not in loaded and "textual" not in loaded


def test_nothing_generic_lands_top_level() -> None:
    """probes/knowledge/tui install under vnetdoctor.*, never as top-level packages."""
    code = "import importlib.util as u; print([n for n in ('probes','knowledge','tui') if u.find_spec(n)])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "[]"


ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "floors": "Floors: cli/commands > tui > session > store, reports, lab > knowledge > probes",
    "headless": "Headless floors never import Textual",
    "tui-lab-door": "The TUI reaches the lab only through vnetdoctor.lab",
    "light-start": "The CLI start module reaches no heavy library",
}
LINT = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n"
)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the ``vnetdoctor`` tree in ``cwd`` (first on sys.path there)."""
    return subprocess.run([sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_import_contracts_hold() -> None:
    out = _lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in CONTRACTS.values():
        assert f"{name} KEPT" in out.stdout
    assert f"{len(CONTRACTS)} kept, 0 broken" in out.stdout


@pytest.mark.parametrize(
    ("path", "line", "contract"),
    [
        ("probes/pcap.py", "import textual", "headless"),
        ("vnetdoctor/store/core.py", "import textual.app", "headless"),
        ("knowledge/engine.py", "from vnetdoctor import store", "floors"),
        ("probes/links.py", "import vnetdoctor.knowledge.engine", "floors"),
        ("vnetdoctor/lab/ops.py", "import vnetdoctor.tui.state", "floors"),
        ("vnetdoctor/unplaced.py", "from vnetdoctor.knowledge import engine", "floors"),
        ("vnetdoctor/session/core.py", "import vnetdoctor.tui.state", "floors"),
        ("vnetdoctor/session/sinks.py", "import textual.message", "headless"),
        ("tui/app.py", "from vnetdoctor.lab import state", "tui-lab-door"),
        ("vnetdoctor/cli.py", "import scapy.all", "light-start"),
    ],
)
def test_each_contract_fails_on_the_import_it_forbids(tmp_path: Path, path: str, line: str,
                                                      contract: str) -> None:
    """A copy of the tree with one forbidden import added breaks exactly the contract meant.

    ``vnetdoctor/unplaced.py`` is a new module no floor names: the floors contract is
    exhaustive, so it is broken until the module is given a floor.
    """
    tree = tmp_path / "vnetdoctor"
    shutil.copytree(ROOT / "vnetdoctor", tree, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tree / path.removeprefix("vnetdoctor/")
    text = target.read_text() if target.exists() else '"""A module no floor names yet."""\n'
    target.write_text(text + f"\n{line}  # added by the test\n")
    out = _lint_imports(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    broken = {cid for cid, name in CONTRACTS.items() if f"{name} BROKEN" in out.stdout}
    assert broken == {contract}, out.stdout
