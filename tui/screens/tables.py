"""The Tables screen: links, addresses, routes, neighbours, bridge ports, fdb, firewall,
sysctls and libvirt domains / networks / leases, from the host and the guest side.

These are the tables an operator would otherwise read by hand, one
command at a time, on each side. Here each is one key away (``1``–``9``, ``0``,
``[``/``]``), filtered with ``/`` (k9s style), sorted with ``s`` or a header click.

Refreshing never clears a table: each table is a
:class:`~vnetdoctor.tui.widgets.keyed_table.KeyedTable` that diffs rows by their
identity, so the cursor and the scroll position stay where the operator left
them and only changed cells repaint.

In replay, the session serves the recorded observations through the same call
(its observer reads the record at the timeline's selected moment) and no probe runs.

This module is the screen's layout, its keys, switching tables, the filter, sorting
and the status line. Loading a table in a worker, auto-refresh and drawing a loaded
table's rows are its part :class:`~.tables_loading.TablesLoading` (issue 9);
``BINDINGS`` and ``@on`` handlers stay here, where Textual reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Input
from textual.worker import Worker, WorkerState
from vnetdoctor.probes.base import ERROR, Observation, run_probe

from ..glyphs import glyph
from ..i18n import translate_bindings
from ..state import SessionState
from ..table_sources import SIDE_COLUMN, SOURCES, ProbeRunner, TableSource, column_label, table_rows
from ..widgets.keyed_table import KeyedTable
from ..widgets.table_view import TableTabs, TableView
from ..widgets.title_bar import TitleBar, request_line
from .commands import PaletteCommand, ScreenCommands, binding_commands
from .detail import row_detail
from .tables_loading import AUTO_INTERVAL, TableLoaded, TablesLoading

__all__ = ["TABLE_KEYS", "TableTabs", "TableView", "TablesScreen"]

NUMBER_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-")
KEY_NAMES = {"-": "minus"}
SIDE_FILTERS = ("all", "host", "guest")
TABLE_KEYS = Binding.Group("tables.key.tables", compact=True)  # "[]" in the footer


class TablesScreen(TablesLoading, Screen[None]):
    """Every configuration table on both sides of the path, one key each."""

    COMMANDS: ClassVar[set[type[Provider]]] = {ScreenCommands}

    DEFAULT_CSS = """
    TablesScreen {
        layout: vertical;
    }
    #tb-title > #title-right {
        max-width: 40%;
    }
    #tb-switcher {
        height: 1fr;
    }
    #tb-filter {
        dock: bottom;
        display: none;
        margin-bottom: 1;
    }
    #tb-filter.-shown {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "tables.key.back", id="tables.back"),
        Binding("slash", "filter", "tables.key.filter", id="tables.filter", key_display="/"),
        Binding("s", "sort", "tables.key.sort", id="tables.sort"),
        Binding("S", "reverse", "tables.key.reverse", id="tables.reverse", show=False),
        Binding("r", "refresh", "tables.key.refresh", id="tables.refresh"),
        Binding("a", "auto", "tables.key.auto", id="tables.auto"),
        Binding("v", "side", "tables.key.side", id="tables.side", show=False),
        Binding("c", "columns", "tables.key.columns", id="tables.columns", show=False),
        # The table bar names the number keys; [ ] are in the help (the footer is full at 80 columns).
        Binding("left_square_bracket", "step(-1)", "tables.key.prev", id="tables.prev", key_display="[",
                group=TABLE_KEYS, show=False),
        Binding("right_square_bracket", "step(1)", "tables.key.next", id="tables.next", key_display="]",
                group=TABLE_KEYS, show=False),
        *(
            Binding(KEY_NAMES.get(key, key), f"show_index({i})", "tables.key.table", id=f"tables.table{i + 1}",
                    show=False, key_display=key)
            for i, key in enumerate(NUMBER_KEYS)
        ),
    ]

    def __init__(
        self,
        state: SessionState,
        *,
        runner: ProbeRunner | None = None,
        sources: Sequence[TableSource] = SOURCES,
        auto_interval: float = AUTO_INTERVAL,
        initial: str | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.state = state
        self.text = translate_bindings(self, state.lang)
        # Live tables observe through the walk's session, so what they show is recorded too.
        session = getattr(state, "session", None)
        # Whether what the session serves comes from a record (said in the status line).
        self.serves_record = bool(session is not None and session.serves_record)
        self.runner: ProbeRunner = runner or (partial(session.observe, refresh=True) if session else run_probe)
        self.sources = list(sources)
        self.by_id = {s.id: s for s in self.sources}
        self.current = initial if initial in self.by_id else self.sources[0].id
        self.auto_interval = auto_interval
        self.auto = False
        self.all_fields = False
        self.side_filter = "all"
        self._loading_tables: set[str] = set()
        self.polls = 0  # probe runs started (tests count them)
        self._timer: Timer | None = None

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TableTabs([self._tab_label(i, s) for i, s in enumerate(self.sources)], id="tb-tabs")
        yield TitleBar(Text(self.text(f"tables.name.{self.current}"), style="bold"), "", id="tb-title")
        with ContentSwitcher(initial=f"tv-{self.current}", id="tb-switcher"):
            for source in self.sources:
                yield TableView(source)
        yield Input(placeholder=self.text("tables.filter_placeholder"), id="tb-filter", compact=True)
        yield Footer()

    def _tab_label(self, index: int, source: TableSource) -> str:
        key = NUMBER_KEYS[index] if index < len(NUMBER_KEYS) else ""
        title = self.text(f"tables.name.{source.id}")
        return f"{key} {title}" if key else title

    def on_mount(self) -> None:
        self.query_one(TitleBar).set_right(request_line(self.state))
        self._show(self.current)

    def on_resize(self) -> None:
        """Columns follow the width (compact below 160) and uncapped ones fill the line."""
        self._render_loaded()

    @property
    def view(self) -> TableView:
        return self.query_one(f"#tv-{self.current}", TableView)

    @property
    def table(self) -> KeyedTable:
        return self.view.table

    # --- switching tables ---------------------------------------------------------------------

    def _show(self, table_id: str) -> None:
        self.current = table_id
        self.query_one(ContentSwitcher).current = f"tv-{table_id}"
        self.query_one(TableTabs).active = [s.id for s in self.sources].index(table_id)
        view = self.view
        if not view.loaded and table_id not in self._loading_tables:
            self._refresh(table_id)
        flt = self.query_one("#tb-filter", Input)
        flt.value = view.table.filter_text
        flt.set_class(bool(view.table.filter_text), "-shown")
        view.table.focus()
        self._status()

    @on(TableTabs.Picked)
    def _on_tab(self, event: TableTabs.Picked) -> None:
        self.action_show_index(event.index)

    def action_show_index(self, index: int) -> None:
        if 0 <= index < len(self.sources):
            self._show(self.sources[index].id)

    def action_step(self, delta: int) -> None:
        ids = [s.id for s in self.sources]
        self._show(ids[(ids.index(self.current) + delta) % len(ids)])

    # --- loading (the work itself is TablesLoading's) ---------------------------------------------

    @on(TableLoaded)
    def _on_loaded(self, message: TableLoaded) -> None:
        self._loading_tables.discard(message.table)
        view = self.query_one(f"#tv-{message.table}", TableView)
        view.observations = message.observations
        view.recorded = message.recorded
        view.loaded = True
        self._render_view(view)
        if message.table == self.current:
            self._status()
            self._arm()

    @on(Worker.StateChanged)
    def _on_worker(self, event: Worker.StateChanged) -> None:
        """A load that crashed (a bug, not a probe failure: those are observations) still ends."""
        if event.state != WorkerState.ERROR or not event.worker.group.startswith("table-"):
            return
        table_id = event.worker.group.removeprefix("table-")
        if table_id in self.by_id:
            error = f"{type(event.worker.error).__name__}: {event.worker.error}".splitlines()[0]
            failed = Observation(self.by_id[table_id].probe, "", ERROR, reason=error)
            self.post_message(TableLoaded(table_id, [("host", failed)]))

    # --- filter, sort, side, columns ------------------------------------------------------------

    def action_filter(self) -> None:
        flt = self.query_one("#tb-filter", Input)
        flt.add_class("-shown")
        flt.focus()

    @on(Input.Changed, "#tb-filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        if event.value != self.table.filter_text:
            self.table.set_filter(event.value)
            self._status()

    @on(Input.Submitted, "#tb-filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        event.input.set_class(bool(event.value.strip()), "-shown")
        self.table.focus()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self._status()

    def action_reverse(self) -> None:
        self.table.toggle_sort_direction()
        self._status()

    @on(DataTable.HeaderSelected)
    def _on_header(self, event: DataTable.HeaderSelected) -> None:
        table = self.table
        key = str(event.column_key.value)
        if table.sort_column == key:
            table.toggle_sort_direction()
        else:
            table.set_sort(key)
        self._status()

    @on(DataTable.RowSelected)
    def _on_row(self, event: DataTable.RowSelected) -> None:
        """Enter: the row in full, every field (a firewall rule with its counters and handle)."""
        key = self.table.cursor_key
        values = self.table.source_row(key) if key is not None else None
        if values is not None:
            title = self.text(f"tables.name.{self.current}")  # the row's own fields say which row
            labels = {spec.key: spec.label for spec in self.table.columns_spec}
            self.app.push_screen(row_detail(title, values, labels, self.text.lang))

    def action_side(self) -> None:
        i = SIDE_FILTERS.index(self.side_filter)
        self.side_filter = SIDE_FILTERS[(i + 1) % len(SIDE_FILTERS)]
        self._render_loaded()
        self._status()

    def action_columns(self) -> None:
        self.all_fields = not self.all_fields
        self._render_loaded()
        self._status()

    def action_back(self) -> None:
        flt = self.query_one("#tb-filter", Input)
        if flt.has_focus:
            flt.value = ""
            flt.remove_class("-shown")
            self.table.focus()
            return
        self.app.pop_screen()

    def palette_commands(self) -> list[PaletteCommand]:
        """The screen's keys, with one "show <table>" entry per table instead of eleven "table"s."""
        keys = [c for c in binding_commands(self) if c.name != self.text("tables.key.table")]
        tables = [
            PaletteCommand(self.text("tables.show", table=self.text(f"tables.name.{s.id}")),
                           NUMBER_KEYS[i] if i < len(NUMBER_KEYS) else "", partial(self.action_show_index, i))
            for i, s in enumerate(self.sources)
        ]
        return keys + tables

    def help_intro(self) -> str:
        """What the App's help screen says about this screen above its keys."""
        return self.text("tables.help_intro")

    # --- the status line --------------------------------------------------------------------------

    def _status(self) -> None:
        t = self.text
        view = self.view
        table = view.table
        parts = [t(f"tables.name.{self.current}")]
        if self.current in self._loading_tables:
            parts.append(t("tables.loading"))
        elif view.loaded:
            per_side = Counter(r.get(SIDE_COLUMN) for r in table_rows(view.source, view.observations))
            counts = [
                f"{t('views.side.' + side)} " + (str(per_side[side]) if obs.ok else t("tables.side_failed"))
                for side, obs in view.observations
            ]
            if view.recorded:
                counts.insert(0, t("tables.recorded"))
            parts.extend(counts)
        if table.filter_text:
            parts.append(t("tables.filtered", text=table.filter_text, shown=table.row_count, total=table.total_rows))
        if table.sort_column:
            parts.append(t("tables.sorted", column=column_label(table.sort_column, self.text.lang), arrow=glyph("down" if table.sort_reverse else "up")))
        if self.side_filter != "all":
            parts.append(t("tables.only_side", side=t("views.side." + self.side_filter)))
        if self.auto:
            parts.append(t("tables.auto_on", seconds=f"{self.auto_interval:g}"))
        self.query_one(TitleBar).set_left(Text(" · ".join(parts), style="bold"))

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.workers.cancel_node(self)

