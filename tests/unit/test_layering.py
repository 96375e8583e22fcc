"""The layers of architecture.md hold: the domain never imports Textual, and the
command line's start-up path imports neither scapy nor libvirt (they load lazily)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import vnetdoctor.knowledge
import vnetdoctor.probes

HEADLESS = sorted(
    [f"vnetdoctor.probes.{m.name}" for m in pkgutil.iter_modules(vnetdoctor.probes.__path__)]
    + [f"vnetdoctor.knowledge.{m.name}" for m in pkgutil.iter_modules(vnetdoctor.knowledge.__path__)]
    + ["vnetdoctor.store", "vnetdoctor.lab", "vnetdoctor.console_report", "vnetdoctor.commands.diagnose"]
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


def test_engine_import_does_not_load_scapy_or_libvirt() -> None:
    loaded = _loaded_after("import vnetdoctor.knowledge.engine\nimport vnetdoctor.probes.base as b\nb.load_all()")
    assert "scapy" not in loaded and "libvirt" not in loaded and "textual" not in loaded


def test_nothing_generic_lands_top_level() -> None:
    """probes/knowledge/tui install under vnetdoctor.*, never as top-level packages."""
    code = "import importlib.util as u; print([n for n in ('probes','knowledge','tui') if u.find_spec(n)])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "[]"
