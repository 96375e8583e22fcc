"""The one-line bar on top of every screen: who cannot reach whom, and what is going on.

Not Textual's Header: that one shows a clock (which would make snapshots
non-deterministic) and an icon; this shows the request, the session's mode
(replay, changes allowed) and a short status on the right.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.text import Translator

from ..glyphs import glyph


def describe_request(request: Request | None, tr: Translator) -> str:
    """``local → 198.18.0.11 (guest netns:vnd-guest) :22`` in the operator's words."""
    if request is None:
        return tr("title.no_target")
    target = request.target or tr("title.target_auto")
    if request.from_side == "guest":
        text = f"{request.guest or tr('title.guest')} {glyph('right')} {target}"
        text += f"  ({tr('title.host')} {request.host})"
    else:
        text = f"{request.host} {glyph('right')} {target}"
        if request.guest:
            text += f"  ({tr('title.guest')} {request.guest})"
    if request.port:
        text += f"  tcp/{request.port}"
    return text


def request_line(state: Any) -> Text:
    """The request for a title bar's right part, in the App's wording, dimmed."""
    return Text(describe_request(state.request, Translator(state.lang)), style="dim")


class TitleBar(Horizontal):
    DEFAULT_CSS = """
    TitleBar { height: 1; dock: top; background: $panel; }
    TitleBar > #title-left { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TitleBar > #title-right { width: auto; max-width: 50%; height: 1; text-wrap: nowrap;
                              text-overflow: ellipsis; padding: 0 1; }
    """

    def __init__(self, left: str | Text, right: str | Text = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._left = left
        self._right = right

    def compose(self) -> ComposeResult:
        yield Static(self._left, id="title-left")
        yield Static(self._right, id="title-right")

    def set_left(self, text: str | Text) -> None:
        if text != self._left:
            self._left = text
            self.query_one("#title-left", Static).update(text)

    def set_right(self, text: str | Text) -> None:
        if text != self._right:
            self._right = text
            self.query_one("#title-right", Static).update(text)
