"""The marks and arrows the TUI draws, in Unicode or in plain ASCII.

The Linux console (``TERM=linux``) has a 256-glyph font: ✓ ✗ → … come out as
diamonds or blanks there, and a mark that does not show cannot carry the meaning
colour only repeats. So the marks come from one of two sets: Unicode, or ASCII
(``[ok] [X] [!] [?] [-]``) chosen automatically for ``TERM=linux`` and by
``--ascii`` (which sets :data:`ENV`, so every screen and worker sees the same
choice). The choice is read at each lookup, never frozen at import time: tests
and ``--ascii`` set it after the modules are loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

ENV = "VNETDOCTOR_ASCII"

UNICODE: Mapping[str, str] = {
    "pass": "✓",
    "fail": "✗",
    "warn": "!",
    "ask": "?",
    "skip": "-",
    "running": "…",
    "pending": "·",
    "ok": "✓",
    "skipped": "-",
    "error": "✗",
    "seen": "✓",
    "not_seen": "·",
    "not_listening": "?",
    "right": "→",
    "left": "←",
    "up": "↑",
    "down": "↓",
    "more": "…",
    "kernel_drop": "✗",
    "kernel_end": "✓",
}

ASCII: Mapping[str, str] = {
    "pass": "[ok]",
    "fail": "[X]",
    "warn": "[!]",
    "ask": "[?]",
    "skip": "[-]",
    "running": "[..]",
    "pending": "[ ]",
    "ok": "[ok]",
    "skipped": "[-]",
    "error": "[X]",
    "seen": "+",
    "not_seen": ".",
    "not_listening": "?",
    "right": "->",
    "left": "<-",
    "up": "^",
    "down": "v",
    "more": "...",
    "kernel_drop": "[X]",
    "kernel_end": "[ok]",
}


def ascii_glyphs() -> bool:
    """True when the terminal cannot be trusted with Unicode marks: ``--ascii`` or the Linux console."""
    if os.environ.get(ENV):
        return True
    return os.environ.get("TERM", "") == "linux"


def glyph(name: str) -> str:
    """The mark called ``name`` in the set in use (a KeyError names a mark that does not exist)."""
    return (ASCII if ascii_glyphs() else UNICODE)[name]


class GlyphMap(Mapping[str, str]):
    """A status → mark mapping whose marks follow the set in use at each lookup."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = dict(names)

    def __getitem__(self, key: str) -> str:
        return glyph(self._names[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
