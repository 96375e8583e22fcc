"""Every string the Start/Walk/Help/dialog screens show exists in English and Chinese."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from vnetdoctor.tui.i18n import LANGS, load_strings, tr

TUI = Path(__file__).resolve().parents[2] / "tui"
# The Packets and Tables screens have their own strings file and loader (view_text.py).
OTHERS = {"packets.py", "tables.py", "view_text.py", "table_sources.py"}
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
    keys |= {k for k in load_strings() if k.startswith("form.")}
    return keys


def test_the_scan_finds_the_keys() -> None:
    keys = _used_keys()
    assert {"walk.next", "walk.copy", "verdict.reachable", "fix.confirm_title", "app.quit"} <= keys
    assert len(keys) > 100


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_the_tui_uses_exists(lang: str) -> None:
    strings = load_strings()
    missing = sorted(k for k in _used_keys() if not strings.get(k, {}).get(lang, "").strip())
    assert not missing, f"missing in {lang}: {missing}"


def test_both_languages_take_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, entry in load_strings().items():
        assert set(entry) == set(LANGS), f"{key}: {sorted(entry)}"
        assert fields(entry["en"]) == fields(entry["zh"]), key


def test_tr_formats_and_falls_back() -> None:
    assert tr("verdict.reachable", "zh", target="198.18.0.11") == "198.18.0.11 可以访问"
    assert tr("form.bad_address", "en", value="x") == "'x' is not an IP address"
    assert tr("no.such.key", "zh") == "no.such.key"  # visible, not a crash
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
