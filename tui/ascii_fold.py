"""The ASCII fold on screen: under ``--ascii`` / ``TERM=linux`` no cell holds a glyph the console lacks.

The marks come from the glyph set (glyphs.py), but much text is not the TUI's own:
evidence and step notes the engine wrote ("netns:h → 198.18.0.11", "handle 2 — counter
+3"), the verified list's bullets, the Start screen's notes, Textual's own "…" when a
line is cut. Folding each of them at its source would miss the next one, so the fold
(:func:`vnetdoctor.knowledge.ascii_text.fold`, same cell width per character) runs where
every widget's lines meet: the screen compositor's renders (what the terminal, the
screenshots and the tests' screen text all read). Layout and cropping are untouched.

Textual has no public hook for the final cells; ``Compositor._get_renders`` is the one
place all of them pass (widgets that render their own lines, like OptionList and
DataTable, included). :func:`install` wraps it and returns the undo, which the App runs
when it unmounts, as it does for the scroll bar renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.segment import Segment
from textual.strip import Strip

from vnetdoctor.knowledge.ascii_text import fold

def fold_strip(strip: Strip) -> Strip:
    segments = list(strip)
    if all(seg.text.isascii() for seg in segments):
        return strip
    return Strip([Segment(fold(s.text), s.style, s.control) for s in segments], strip.cell_length)


def install() -> Callable[[], None]:
    """Fold every render from now on; returns the function that stops it."""
    from textual._compositor import Compositor

    original = Compositor._get_renders

    def folded(self: Any, crop: Any = None) -> Iterable[tuple[Any, Any, list[Strip]]]:
        for region, clip, strips in original(self, crop):
            yield region, clip, [fold_strip(s) for s in strips]

    Compositor._get_renders = folded  # type: ignore[method-assign]

    def uninstall() -> None:
        Compositor._get_renders = original  # type: ignore[method-assign]

    return uninstall
