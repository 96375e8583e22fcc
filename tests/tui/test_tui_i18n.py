"""Every string the Start/Walk/Help/dialog screens show exists in English and Chinese."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from vnetdoctor.knowledge.text import LANGS, texts, tr

TUI = Path(__file__).resolve().parents[2] / "tui"
# The Packets and Tables screens keep their strings in ui_views.toml (tests/tui/test_tables_sources.py).
OTHERS = {"packets.py", "tables.py", "table_sources.py"}
LITERAL = re.compile(r"""\btr\(\s*"([a-z_]+(?:\.[A-Za-z_]+)+)\"""")
BINDING = re.compile(r"""Binding\([^)]*?"([a-z]+\.[a-z_]+)"\s*,\s*id=""")


def _sources() -> list[Path]:
    return [p for p in TUI.rglob("*.py") if p.name not in OTHERS and "packet" not in p.name]


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in _sources():
        text = path.read_text("utf-8")
        keys.update(LITERAL.findall(text))
        keys.update(BINDING.findall(text))
    # Keys built at run time from a known set of names.
    from vnetdoctor.tui.screens.help import MARK_KEYS
    from vnetdoctor.tui.screens.start import COLUMNS, DIRECTIONS

    keys |= {f"start.col_{c}" for c in COLUMNS}
    keys |= {f"start.dir_{d}" for d in DIRECTIONS}
    keys |= {f"start.field_{f}" for f in ("address", "port", "host", "guest")}
    keys |= {f"start.kind_{k}" for k in ("libvirt", "vmware", "virtualbox", "lab", "netns")}
    keys |= {f"status.{k}" for k in MARK_KEYS}
    keys |= {f"screen.{s}" for s in ("StartScreen", "WalkScreen", "HelpScreen", "QuestionDialog", "FixConfirmDialog")}
    keys |= {"start.note_no_agent", "start.note_type_guest_ip"}
    keys |= {k for k in texts() if k.startswith("form.")}
    return keys


def test_the_scan_finds_the_keys() -> None:
    keys = _used_keys()
    assert {"walk.next", "walk.copy", "verdict.reachable", "fix.confirm_title", "app.quit"} <= keys
    assert len(keys) > 100


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_the_tui_uses_exists(lang: str) -> None:
    strings = texts()
    missing = sorted(k for k in _used_keys() if k not in strings or not strings[k][lang].strip())
    assert not missing, f"missing in {lang}: {missing}"


def test_both_languages_take_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, entry in texts().items():
        assert set(entry) == set(LANGS), f"{key}: {sorted(entry)}"
        assert fields(entry["en"]) == fields(entry["zh"]), key


def test_tr_formats_and_falls_back() -> None:
    assert tr("verdict.reachable", "zh", target="198.18.0.11") == "198.18.0.11 可以访问"
    assert tr("form.bad_address", "en", value="x") == "'x' is not an IP address"
    assert tr("no.such.key", "zh", strict=False) == "no.such.key"  # visible in production, not a crash
    assert tr("walk.next", "fr") == "next"  # an unknown language reads English


def test_screen_bindings_are_translated_per_instance() -> None:
    from vnetdoctor.tui.i18n import translate_bindings
    from vnetdoctor.tui.screens.walk import WalkScreen

    class Node:
        _bindings = WalkScreen._merged_bindings.copy()

    node = Node()
    translate_bindings(node, "zh")  # type: ignore[arg-type]
    described = {b.id: b.description for _, b in node._bindings}
    assert described["walk.next"] == "下一步"
    # The class keeps its keys: another instance in English is unaffected.
    assert {b.description for _, b in WalkScreen._merged_bindings if b.id == "walk.next"} == {"walk.next"}


def test_tables_say_skips_and_headers_in_chinese() -> None:
    from vnetdoctor.probes.base import SKIPPED, Observation
    from vnetdoctor.tui.table_sources import SIDE_COLUMN, SOURCES, _fields_of_class, column_label, status_of

    obs = Observation("libvirt.domains", "netns:h", SKIPPED, reason="not available on a netns vantage")
    assert status_of([("host", obs)], "zh") == [("host", "netns:h", "已跳过：在 netns 观察点上无法运行")]
    assert status_of([("host", obs)], "en") == [("host", "netns:h", "skipped: not available on a netns vantage")]
    fields = {SIDE_COLUMN} | {f for s in SOURCES for f in _fields_of_class(s.row_class)}
    assert sorted(f for f in fields if f"tables.col.{f}" not in texts()) == []  # every header has its words
    assert column_label("ifname", "zh") == "接口名" and column_label("ifname", "en") == "ifname"


def test_start_screen_discovery_notes_in_chinese() -> None:
    from vnetdoctor.probes.base import SKIPPED, Observation
    from vnetdoctor.session.targets import _note

    obs = Observation("libvirt.domains", "local", SKIPPED, reason="needs libvirt-python (No module named 'libvirt')")
    assert _note("libvirt", obs, "zh") == "libvirt：已跳过：需要 libvirt-python（No module named 'libvirt'）"
    assert _note("libvirt", obs, "en") == "libvirt: skipped: needs libvirt-python (No module named 'libvirt')"


def test_table_cells_that_are_words_read_in_chinese() -> None:
    from vnetdoctor.tui.table_sources import SIDE_COLUMN, localize_cells

    rows = {"eth0": {SIDE_COLUMN: "guest", "ifname": "eth0", "carrier": True, "noarp": False, "mtu": 1500}}
    localize_cells(rows, "zh")
    assert rows["eth0"] == {SIDE_COLUMN: "虚拟机", "ifname": "eth0", "carrier": "是", "noarp": "否", "mtu": 1500}


def test_every_screen_has_a_name_in_both_languages() -> None:
    """The help title and the command palette name the screen by ``screen.<class>``."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    import vnetdoctor.tui.screens as screens_pkg

    names = set()
    for info in pkgutil.iter_modules(screens_pkg.__path__):
        module = importlib.import_module(f"vnetdoctor.tui.screens.{info.name}")
        names |= {c.__name__ for _, c in inspect.getmembers(module, inspect.isclass)
                  if issubclass(c, Screen) and c.__module__ == module.__name__}
    assert {"WalkScreen", "SessionsScreen"} <= names
    assert sorted(n for n in names if f"screen.{n}" not in texts()) == []
