"""The Packets and Tables screens' names for the shared strings machinery.

Their strings live in ``knowledge/data/ui_views.toml`` (a file of their own so two
people can edit strings without conflicts); :mod:`.i18n` loads it together with
``ui.toml``, so these are aliases, kept because the two screens read better with them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.dom import DOMNode

from .i18n import LANGS, Translator, load_strings, tr, translate_bindings

ViewText = Translator
view_tr = tr
load_view_strings = load_strings

__all__ = ["LANGS", "ViewText", "load_view_strings", "localize_bindings", "request_line", "view_tr"]


def localize_bindings(node: DOMNode, text: Translator) -> None:
    """Binding descriptions (text keys) of this screen instance, in its language."""
    translate_bindings(node, text.lang)


def request_line(state: Any) -> Text:
    """The request for a title bar's right part, in the App's wording, dimmed."""
    from .widgets.title_bar import describe_request

    return Text(describe_request(state.request, Translator(state.lang)), style="dim")
