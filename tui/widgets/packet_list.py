"""The packet list: one line per captured frame, appended as batches arrive.

Columns follow termshark / tcpdump habits: time since the capture started,
interface, vantage, source → destination, protocol, and the rest of the summary.
The fields are the ``PacketRow``'s own (decoded from each frame's bytes by the
capture, ``probes.frame_summary``, so no decoding is needed to list thousands of
packets); the summary line is display text, never read back here.

At 80 columns the direction and length columns are left out and the vantage is
shortened; at 160 every column is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import BindingType
from textual.widgets import DataTable
from vnetdoctor.probes.rows import PacketRow

from ..glyphs import glyph
from .list_keys import LIST_KEYS, ListKeys
from .path_view import short_vantage

WIDE = 120  # from this width on the list shows every column
TIGHT = 80  # below this width the flow column goes (Enter shows it): the info keeps ~25 cells


def endpoint(addr: str, port: int) -> str:
    """An address as the flow column shows it: with its port for TCP and UDP (``198.18.0.1:22``)."""
    return f"{addr}:{port}" if port else addr


@dataclass(frozen=True)
class ListColumn:
    key: str
    label_key: str  # UI text key of the header
    wide_only: bool = False
    roomy_only: bool = False  # left out below TIGHT columns

    def shown(self, wide: bool, tight: bool) -> bool:
        return (wide or not self.wide_only) and not (tight and self.roomy_only)


COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("no", "packets.col.no", wide_only=True),
    ListColumn("time", "packets.col.time"),
    ListColumn("iface", "packets.col.iface"),
    ListColumn("vantage", "packets.col.vantage"),
    ListColumn("dir", "packets.col.dir", wide_only=True),
    ListColumn("flow", "packets.col.flow", roomy_only=True),
    ListColumn("proto", "packets.col.proto"),
    ListColumn("len", "packets.col.len", wide_only=True),
    ListColumn("info", "packets.col.info"),
)


def packet_cells(
    row: PacketRow, number: int, t0: float, wide: bool, side_of: Mapping[str, str] | None = None,
    tight: bool = False,
) -> list[str]:
    """The cell texts of one packet line for the chosen layout.

    Narrow: the vantage is the side's name ("host", "guest") when known, and the
    IP length (its own column when wide) and the ARP sender's MAC leave the info.
    """
    src, dst = endpoint(row.src, row.sport), endpoint(row.dst, row.dport)
    flow = f"{src} {glyph('right')} {dst}" if dst else src
    if wide:
        vantage, info = row.vantage, row.info + row.info_more
    else:
        vantage = _cut((side_of or {}).get(row.vantage) or short_vantage(row.vantage), 9)
        info = row.info
    values = {
        "no": str(number),
        "time": f"{row.time - t0:.6f}",  # µs: hops of one packet are µs apart
        "iface": row.iface if wide else _cut(row.iface, 8),
        "vantage": vantage,
        "dir": str(row.direction),
        "flow": flow,
        "proto": row.proto,
        "len": str(row.length),
        "info": info,
    }
    return [values[c.key] for c in COLUMNS if c.shown(wide, tight)]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - len(glyph("more"))] + glyph("more")


class PacketList(ListKeys, DataTable[Text]):
    """Append-only list of packets; row key = the packet's number in this view.

    ``follow`` keeps the cursor on the newest packet while it is on the last line
    (as ``tail -f`` does); moving the cursor up stops following, ``end`` resumes.
    """

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS

    DEFAULT_CSS = """
    PacketList {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.packets: list[PacketRow] = []
        self.t0: float | None = None
        self.wide = False
        self.tight = False
        self.side_of: Mapping[str, str] = {}
        # The width to fill: when narrow, the info column gets what the others leave.
        self.fit_width: int | None = None
        self._natural: dict[str, int] = {}  # column key -> widest text so far

    def setup(self, headers: dict[str, str], wide: bool, tight: bool = False) -> None:
        """(Re)build the columns for a layout; existing packets are re-listed."""
        self.wide, self.tight = wide, tight
        keep = self.cursor_row
        self._natural = {}
        self.clear(columns=True)
        for col in COLUMNS:
            if col.shown(wide, tight):
                label = headers.get(col.key, col.key)
                self.add_column(label, key=col.key, width=cell_len(label))
        self._append(self.packets, 0)
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def add_packets(self, rows: Sequence[PacketRow]) -> int:
        """Append packets; returns how many were added."""
        if not rows:
            return 0
        follow = not self.row_count or self.cursor_row >= self.row_count - 1
        start = len(self.packets)
        if self.t0 is None:
            self.t0 = min(r.time for r in rows)
        self.packets.extend(rows)
        self._append(rows, start)
        if follow:
            self.move_cursor(row=self.row_count - 1)
        return len(rows)

    def _append(self, rows: Sequence[PacketRow], start: int) -> None:
        if not self.columns:
            return
        t0 = self.t0 if self.t0 is not None else 0.0
        lines = [
            packet_cells(row, i + 1, t0, self.wide, self.side_of, self.tight) for i, row in enumerate(rows, start=start)
        ]
        # Widths before rows: see keyed_table's module docstring for why not auto-width.
        for column, texts in zip(self.ordered_columns, zip(*lines)):
            self._natural[column.key.value] = max(
                self._natural.get(column.key.value, cell_len(column.label.plain)), *(cell_len(t) for t in texts)
            )
        self._apply_widths()
        with self.app.batch_update():
            for i, cells in enumerate(lines, start=start):
                self.add_row(*(Text(c, no_wrap=True, overflow="ellipsis") for c in cells), key=str(i))

    def _apply_widths(self) -> bool:
        """Set every column to its widest text; narrow, the info column to what is left."""
        changed = False
        columns = self.ordered_columns
        widths = {c.key.value: self._natural.get(c.key.value, cell_len(c.label.plain)) for c in columns}
        if self.fit_width and not self.wide and "info" in widths:
            gutter = 2 * self.cell_padding * len(columns) + 2
            used = sum(w for k, w in widths.items() if k != "info")
            widths["info"] = max(4, min(widths["info"], self.fit_width - gutter - used))
        for column in columns:
            if column.width != widths[column.key.value]:
                column.width = widths[column.key.value]
                changed = True
        return changed

    def refit(self, width: int) -> None:
        """The terminal was resized: fit the info column again."""
        self.fit_width = width
        if self._apply_widths() and self.row_count:
            # A same-value cell update makes DataTable recompute its size and re-render.
            row_key, col_key = self.ordered_rows[-1].key, self.ordered_columns[0].key
            self.update_cell(row_key, col_key, self.get_cell(row_key, col_key), update_width=True)

    def clear_packets(self) -> None:
        self.packets = []
        self.t0 = None
        self.clear()

    def selected(self) -> PacketRow | None:
        if not self.row_count or not 0 <= self.cursor_row < len(self.packets):
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.packets[int(key)] if key is not None else None
