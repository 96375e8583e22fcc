"""A DataTable that is updated by row key, never cleared and refilled.

Refreshing a table view the naive way (``clear()`` then ``add_row`` for every
row) throws away the operator's cursor and scroll position and makes the screen
flicker on every poll. Like dolphie, this table diffs the new rows against what
it shows: rows that vanished are removed, new rows are added, and only the
cells whose text changed are updated — all inside one ``batch_update()``.

It also owns the two view operations every table screen needs, so that they go
through the same diff: a filter string (rows containing the text in any shown
column) and a sort column (ascending or descending, numbers as numbers). Without
a sort column, rows keep the order the source gave them.

Column widths are set here, from the texts, before any cell changes: DataTable's
own auto-width is measured on idle, and a frame drawn before that idle keeps
cells cropped to the header's width in its render cache (the cache key has no
width). Fixed widths computed up front cannot go stale.

Cells are :class:`KeyedText` objects: rich ``Text`` (so that ``[`` in a firewall
rule is never read as markup) that also remembers its row key, which lets
``DataTable.sort`` restore the source order through its public API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ..glyphs import glyph
from ..table_cells import ColumnSpec, format_value, matches, sort_key, truncate
from .list_keys import LIST_KEYS, ListKeys

__all__ = ["ColumnSpec", "KeyedTable", "KeyedText", "SyncStats", "format_value", "matches", "sort_key", "truncate"]


class KeyedText(Text):
    """A cell: plain rich Text that knows which row it belongs to."""

    def __init__(self, text: str, row_key: str, *, style: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self.row_key = row_key


@dataclass(frozen=True)
class SyncStats:
    """What one update changed: tests and the status line read it."""

    added: int = 0
    removed: int = 0
    updated_cells: int = 0
    shown: int = 0
    total: int = 0


class KeyedTable(ListKeys, DataTable[Text]):
    """A row-cursor DataTable fed whole snapshots by key; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        # The width the table may fill: columns without a width cap share what the
        # capped ones leave (a firewall rule gets the rest of an 80-column line).
        self.fit_width: int | None = None
        self._specs: list[ColumnSpec] = []
        # Every row of the last snapshot, by key, with its raw field values.
        self._source: dict[str, Mapping[str, Any]] = {}
        self._source_rank: dict[str, int] = {}
        # The shown text of every row currently in the DataTable, by key.
        self._shown: dict[str, tuple[str, ...]] = {}
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.last_sync = SyncStats()

    # --- the public operations -----------------------------------------------------

    @property
    def columns_spec(self) -> list[ColumnSpec]:
        return list(self._specs)

    @property
    def row_keys(self) -> list[str]:
        """The keys of the shown rows, in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def total_rows(self) -> int:
        """Rows in the snapshot, shown or filtered out."""
        return len(self._source)

    def set_columns(self, specs: Sequence[ColumnSpec]) -> None:
        """Show these columns. A no-op when they are unchanged.

        Changing the column set (a table switch, a terminal resize across the
        compact/wide boundary) is a layout change, not a refresh: the table is
        rebuilt once and the cursor is put back on the row it was on.
        """
        specs = list(specs)
        if specs == self._specs:
            return
        keep = self.cursor_key
        self._specs = specs
        self.clear(columns=True)
        self._shown.clear()
        if self.sort_column not in {s.key for s in specs}:
            self.sort_column = None
        for spec in specs:
            label = self.header_label(spec)
            self.add_column(label, key=spec.key, width=cell_len(label))
        self._sync(keep)

    def header_label(self, spec: ColumnSpec) -> str:
        """The column's header: its label, and the sort direction on the sorted column."""
        if spec.key != self.sort_column:
            return spec.label
        return f"{spec.label} {glyph('down' if self.sort_reverse else 'up')}"

    def update_rows(self, rows: Mapping[str, Mapping[str, Any]]) -> SyncStats:
        """Replace the snapshot with ``rows`` (key → field values, in source order)."""
        self._source = dict(rows)
        self._source_rank = {key: i for i, key in enumerate(self._source)}
        return self._sync(self.cursor_key)

    def set_filter(self, text: str) -> SyncStats:
        self.filter_text = text.strip()
        return self._sync(self.cursor_key)

    def set_sort(self, column: str | None, reverse: bool = False) -> SyncStats:
        if column is not None and column not in {s.key for s in self._specs}:
            raise KeyError(column)
        changed = (column, reverse) != (self.sort_column, self.sort_reverse)
        self.sort_column = column
        self.sort_reverse = reverse
        if changed and self._specs:  # the headers name the sort: rebuild them (the cursor stays)
            specs, self._specs = self._specs, []
            self.set_columns(specs)
            return self.last_sync
        return self._sync(self.cursor_key)

    def cycle_sort(self) -> SyncStats:
        """Next column, ascending; after the last column, back to the source order."""
        keys = [s.key for s in self._specs]
        if not keys:
            return self.last_sync
        if self.sort_column is None:
            return self.set_sort(keys[0])
        i = keys.index(self.sort_column) + 1
        return self.set_sort(keys[i] if i < len(keys) else None)

    def toggle_sort_direction(self) -> SyncStats:
        if self.sort_column is None:
            return self.last_sync
        return self.set_sort(self.sort_column, not self.sort_reverse)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None on an empty table)."""
        if not self.row_count:
            return None
        try:
            cell = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        except Exception:  # noqa: BLE001 - a cursor past the end after a removal
            return None
        return str(cell.row_key.value)

    def source_row(self, key: str) -> Mapping[str, Any] | None:
        return self._source.get(key)

    # --- the diff --------------------------------------------------------------------

    def _texts(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(truncate(format_value(values.get(s.key)), s.max_width) for s in self._specs)

    def _wanted(self) -> list[str]:
        """Keys to show, in display order: filtered, then sorted (stable on source order)."""
        keys = [
            key
            for key, values in self._source.items()
            if matches((format_value(values.get(s.key)) for s in self._specs), self.filter_text)
        ]
        if self.sort_column is not None:
            col = self.sort_column
            keys.sort(key=lambda k: sort_key(self._source[k].get(col)), reverse=self.sort_reverse)
        return keys

    def _sync(self, keep_cursor: str | None) -> SyncStats:
        if not self._specs:
            self.last_sync = SyncStats(total=len(self._source))
            return self.last_sync
        wanted = self._wanted()
        wanted_set = set(wanted)
        added = removed = updated = 0
        old_cursor_row = self.cursor_row
        resized = self._fit_widths(wanted)
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted_set]:
                self.remove_row(key)
                del self._shown[key]
                removed += 1
            for key in wanted:
                texts = self._texts(self._source[key])
                old = self._shown.get(key)
                if old is None:
                    self.add_row(*(KeyedText(t, key) for t in texts), key=key)
                    added += 1
                elif old != texts:
                    for spec, before, after in zip(self._specs, old, texts):
                        if before != after:
                            self.update_cell(key, spec.key, KeyedText(after, key), update_width=resized)
                            updated += 1
                self._shown[key] = texts
            if self.row_keys != wanted:
                rank = {key: i for i, key in enumerate(wanted)}
                first = self._specs[0].key
                self.sort(first, key=lambda cell: rank[cell.row_key])
            if resized and not (added or removed or updated) and wanted:
                # Only widths changed: a same-value cell update is the public way to
                # have DataTable recompute its scroll size and drop cached renders.
                key, spec = wanted[0], self._specs[0]
                self.update_cell(key, spec.key, KeyedText(self._shown[key][0], key), update_width=True)
            self._restore_cursor(keep_cursor, old_cursor_row)
        self.last_sync = SyncStats(added, removed, updated, len(wanted), len(self._source))
        return self.last_sync

    def _fit_widths(self, keys: Sequence[str]) -> bool:
        """Each column as wide as its widest shown text (or its header); True if any changed.

        Uncapped columns are then narrowed to what :attr:`fit_width` leaves, so that
        the table does not scroll sideways (their cells end in "…").
        """
        widths = [cell_len(self.header_label(s)) for s in self._specs]
        for key in keys:
            for i, text in enumerate(self._texts(self._source[key])):
                widths[i] = max(widths[i], cell_len(text))
        flexible = [i for i, s in enumerate(self._specs) if s.max_width is None]
        if self.fit_width and flexible:
            gutter = 2 * self.cell_padding * len(self._specs) + 2  # padding, scrollbar
            fixed = sum(w for i, w in enumerate(widths) if i not in flexible)
            share = max(0, self.fit_width - gutter - fixed) // len(flexible)
            for i in flexible:
                widths[i] = max(cell_len(self.header_label(self._specs[i])), min(widths[i], share))
        changed = False
        for spec, width in zip(self._specs, widths):
            column = self.columns.get(ColumnKey(spec.key))
            if column is not None and column.width != width:
                column.width = width
                changed = True
        return changed

    def _restore_cursor(self, key: str | None, old_row: int) -> None:
        """Keep the cursor on the row it was on; if that row left, on the same line."""
        if not self.row_count:
            return
        if key is not None and key in self._shown:
            target = self.get_row_index(key)
        else:
            target = min(old_row, self.row_count - 1)
        if target != self.cursor_row:
            self.move_cursor(row=target, scroll=False)
