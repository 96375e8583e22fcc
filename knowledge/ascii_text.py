"""Text the Linux console can show: every narrow character folded to one ASCII cell.

The Linux console (``TERM=linux``) has a 256-glyph font: → — • … ✓ come out as
diamonds or blanks there. The TUI folds every cell it draws (tui/ascii_fold.py) and the
console report folds its lines, both with :func:`fold`, which keeps each character's
cell width (→ ">", — "-", • "*", … ".") so columns and wrapping do not move. The
marks have their own ASCII words (``[ok] [X]``): :data:`ASCII_STATUS_MARK`.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from .model import ASK, FAIL, PASS, SKIP, WARN

ENV = "VNETDOCTOR_ASCII"  # set by --ascii, so every screen, worker and report sees the same choice
ASCII_STATUS_MARK: Mapping[str, str] = {PASS: "[ok]", FAIL: "[X]", WARN: "[!]", SKIP: "[-]", ASK: "[?]"}


def ascii_terminal() -> bool:
    """True when the terminal cannot be trusted with Unicode marks: ``--ascii`` or the Linux console."""
    return bool(os.environ.get(ENV)) or os.environ.get("TERM", "") == "linux"


# Single-cell look-alikes for the characters our data and Textual use.
_TABLE = str.maketrans({
    "→": ">", "←": "<", "↑": "^", "↓": "v", "⇄": "=", "↔": "=",
    "—": "-", "–": "-", "‐": "-", "−": "-",
    "•": "*", "·": ".", "…": ".", "⋯": ".",
    "✓": "+", "✔": "+", "✗": "x", "✘": "x", "×": "x",
    "‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"',
    "▕": "|", "▏": "|", "▎": "|", "▍": "|", "▌": "|", "▐": "|", "│": "|", "┃": "|",
    **{c: "_" for c in "▁▂▃▄"}, **{c: "#" for c in "▅▆▇█▉▊▋■"}, "▀": "^", "▔": "-", "─": "-", "━": "-",
    "□": "o", "●": "o", "○": "o", "◆": "*", "◇": "*",
    "≤": "<", "≥": ">", "≠": "!", "°": "o", "\u00a0": " ",
    **{c: "+" for c in "╭╮╰╯┌┐└┘├┤┬┴┼┏┓┗┛╔╗╚╝"}, "═": "=", "║": "|",
})


@lru_cache(maxsize=4096)
def _char(c: str) -> str:
    """A narrow character that is not ASCII: its accent-free letter, else "?"."""
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return c  # double width (Chinese, emoji): a folded cell would shift the line
    plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
    return plain if len(plain) == 1 else "?"


def fold(text: str) -> str:
    """``text`` with every narrow non-ASCII character as one ASCII cell (the width stays)."""
    text = text.translate(_TABLE)
    if text.isascii():
        return text
    return "".join(c if c.isascii() else _char(c) for c in text)


