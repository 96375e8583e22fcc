"""Colour styles that stay readable when colour is switched off (``NO_COLOR``).

Textual honours ``NO_COLOR`` by turning every colour into a grey of the same
luminance: a bold red ✗ or "NOT reachable" becomes dark grey on near-black,
practically invisible. Where colour carries meaning (fail, warn, pass, a risk,
"changes allowed") the NO_COLOR form carries it with attributes instead:
reverse video for what failed, underline for a warning, bold for a pass.
"""

from __future__ import annotations

import os

# What each colour means here, said without colour.
_WITHOUT_COLOUR = {"red": "reverse", "yellow": "underline", "green": "", "cyan": "underline"}


def no_color() -> bool:
    """The https://no-color.org convention: set (to anything but empty) means no colour."""
    return bool(os.environ.get("NO_COLOR"))


def emphasis(style: str) -> str:
    """``style`` as given, or with its colours replaced by attributes under NO_COLOR."""
    if not no_color():
        return style
    words = [_WITHOUT_COLOUR.get(w, w) for w in style.split()]
    if any(w in ("reverse", "underline") for w in words) and "bold" not in words:
        words.insert(0, "bold")
    return " ".join(w for w in words if w) or "bold"
