"""The Tables screen's widgets: one table with the line saying why it is empty, and the tab line.

Kept apart from the screen (which loads, polls, filters and sorts) because they
only draw: :class:`TableView` shows a table or its reason, :class:`TableTabs` the
one-line list of tables with the current one in reverse video.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from vnetdoctor.probes.base import Observation

from ..glyphs import glyph
from ..table_sources import TableSource
from .keyed_table import KeyedTable


class TableView(Vertical):
    """One table and the line that says why it is empty (skipped, error, not recorded)."""

    DEFAULT_CSS = """
    TableView {
        height: 1fr;
    }
    TableView > .reason {
        height: auto;
        max-height: 4;
        padding: 0 1;
        display: none;
    }
    TableView > .reason.-shown {
        display: block;
    }
    TableView.-empty > KeyedTable {
        display: none;
    }
    TableView.-empty > .reason {
        max-height: 100%;
    }
    """

    def __init__(self, source: TableSource) -> None:
        super().__init__(id=f"tv-{source.id}")
        self.source = source
        self.observations: list[tuple[str, Observation]] = []
        self.loaded = False
        self.recorded = False

    def compose(self) -> ComposeResult:
        yield Static("", classes="reason", markup=False)
        yield KeyedTable(id=f"tb-{self.source.id}")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show_reason(self, text: str, empty: bool) -> None:
        reason = self.query_one(".reason", Static)
        reason.update(text)
        reason.set_class(bool(text), "-shown")
        self.set_class(empty, "-empty")


class TableTabs(Static):
    """One line naming every table, the current one in reverse video (readable without colour).

    Not Textual's ``Tabs``: that takes two lines and animates its underline for
    0.3 s on every switch; at 80x24 the line is worth a table row, and a switch
    should be drawn at once. When the names do not fit, the line starts with "…"
    so that the current table is always visible. A click picks a table.
    """

    DEFAULT_CSS = """
    TableTabs {
        height: 1;
        width: 1fr;
        background: $panel;
    }
    """

    @dataclass
    class Picked(Message):
        index: int

    def __init__(self, labels: list[str], *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.labels = labels
        self._active = 0
        self._spans: list[tuple[int, int, int]] = []  # (start x, end x, index) as drawn

    @property
    def active(self) -> int:
        return self._active

    @active.setter
    def active(self, index: int) -> None:
        self._active = index
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.size.width or 80
        cells = [f" {label} " for label in self.labels]
        first = 0
        while first < self._active and sum(map(cell_len, cells[first : self._active + 1])) + 1 > width:
            first += 1
        text = Text(glyph("more") if first else "", no_wrap=True, overflow="crop", end="")
        self._spans = []
        for i in range(first, len(cells)):
            start = text.cell_len
            text.append(cells[i], style="bold reverse" if i == self._active else "")
            self._spans.append((start, text.cell_len, i))
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        for start, end, index in self._spans:
            if start <= event.x < end:
                self.post_message(self.Picked(index))
                return

