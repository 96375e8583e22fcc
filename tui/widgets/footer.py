"""A footer that can give up some keys' room on a narrow terminal, without unbinding them.

Textual's footer cuts whatever does not fit: at 60 columns the live walk's last
keys read "q qu", and "? help", the key that lists all the others, was gone. A
key named in ``narrow_drop`` is hidden from the footer below 70 columns (the
``-w-small`` width class, ``styles.tcss``); it still works and the help still
lists it, as k9s and trippy leave their rarer keys to the help.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class NarrowFooter(Footer):
    def __init__(self, *, narrow_drop: Iterable[str] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.narrow_drop = frozenset(narrow_drop)  # binding actions

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in self.narrow_drop:
                widget.add_class("-narrow-drop")
            yield widget


__all__ = ["NarrowFooter"]
