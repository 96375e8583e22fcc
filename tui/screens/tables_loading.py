"""The Tables screen's loading: one worker per table load, polls that never overlap, the rows shown.

Each load runs the table's probe on each side in a thread worker (through the
walk's session, so what the tables show is recorded too; in replay the session
serves the record instead and no probe runs) and posts :class:`TableLoaded`; the
screen's handler hands it to :meth:`TablesLoading._render_view`, which diffs the
rows into the table's :class:`~vnetdoctor.tui.widgets.keyed_table.KeyedTable` and
says under it what no row can: a side whose probe failed, a probe the record does
not hold, a table with no rows. Auto-refresh is dolphie's loop: one one-shot worker
per poll, re-armed with ``set_timer`` when its result has been shown, so two polls
can never overlap however slow a probe is.

Split out of :mod:`.tables` (issue 9). A part of :class:`~.tables.TablesScreen`: a
plain class the screen inherits from, so it holds no ``BINDINGS`` and no ``@on``
handlers (Textual reads those from the screen only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker
from vnetdoctor.knowledge.observer import not_recorded
from vnetdoctor.probes.base import Observation

from ..table_sources import (
    SIDE_COLUMN,
    ProbeRunner,
    TableSource,
    column_label,
    columns_for,
    field_names,
    keyed_rows,
    localize_cells,
    run_source,
    status_of,
    table_rows,
    vantages_for,
)
from ..widgets.table_view import TableView

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from vnetdoctor.knowledge.text import Translator

    from ..state import SessionState

    _Base = Screen[None]
else:
    _Base = object

AUTO_INTERVAL = 3.0  # seconds between the end of one poll and the start of the next


@dataclass
class TableLoaded(Message):
    """A worker ran (or looked up) one table's observations."""

    table: str
    observations: list[tuple[str, Observation]]
    recorded: bool = False


class TablesLoading(_Base):
    """Loading a table in a worker, auto-refresh, and drawing a loaded table's rows."""

    # The screen's state (set by TablesScreen.__init__), declared for the reader and the type checker.
    state: SessionState
    text: Translator
    runner: ProbeRunner
    serves_record: bool  # what the session serves comes from a record
    by_id: dict[str, TableSource]
    current: str
    auto_interval: float
    auto: bool
    all_fields: bool
    side_filter: str  # "all" | "host" | "guest"
    _loading_tables: set[str]
    polls: int  # probe runs started (tests count them)
    _timer: Timer | None

    if TYPE_CHECKING:  # the screen's, called from here
        def _status(self) -> None: ...

    def _refresh(self, table_id: str) -> bool:
        """Start one load of ``table_id`` unless one is running (polls never overlap)."""
        if table_id in self._loading_tables:
            return False
        self._loading_tables.add(table_id)
        self.polls += 1
        source = self.by_id[table_id]
        self.run_worker(
            lambda: self._load(source),
            thread=True,
            group=f"table-{table_id}",
            exit_on_error=False,
        )
        self._status()
        return True

    def _load(self, source: TableSource) -> None:
        """Worker: the source's observation on each side, from the session (live, or served from the record)."""
        worker = get_current_worker()
        observations = run_source(
            source, vantages_for(source, self.state.request), self.runner, cancelled=lambda: worker.is_cancelled
        )
        # A probe the record does not hold is said once for the table, not as a problem per side.
        observations = [(side, obs) for side, obs in observations if not not_recorded(obs)]
        if not worker.is_cancelled:
            self.post_message(TableLoaded(source.id, observations, recorded=self.serves_record))

    def _render_view(self, view: TableView) -> None:
        source = view.source
        rows = table_rows(source, view.observations)
        shown = [r for r in rows if self.side_filter == "all" or r.get(SIDE_COLUMN) == self.side_filter]
        sides = {side for side, _ in view.observations}
        specs = columns_for(
            source,
            field_names(source, rows),
            self.size.width or self.app.size.width,
            multi_side=len(sides) > 1 and self.side_filter == "all",
            all_fields=self.all_fields,
        )
        table = view.table
        table.fit_width = self.size.width or self.app.size.width
        table.set_columns([replace(s, label=column_label(s.key, self.text.lang)) for s in specs])
        keyed = keyed_rows(source, shown)
        localize_cells(keyed, self.text.lang)  # the side and yes/no in the operator's words; keys stay
        table.update_rows(keyed)
        problems = status_of(view.observations, self.text.lang)
        lines = [
            self.text("tables.problem", where=f"{self.text(f'views.side.{side}')} {vantage}".strip(), reason=reason)
            for side, vantage, reason in problems
        ]
        if view.recorded and not view.observations:
            lines.append(self.text("tables.not_recorded", table=self.text(f"tables.name.{source.id}")))
        if not rows and not lines:  # named as its tab names it: the probe id means nothing to the operator
            lines.append(self.text("tables.no_rows", table=self.text(f"tables.name.{source.id}")))
        view.show_reason("\n".join(lines), empty=not rows)

    def _render_loaded(self) -> None:
        """Every loaded table again (the side filter or the columns changed)."""
        for view in self.query(TableView):
            if view.loaded:
                self._render_view(view)

    # --- auto-refresh: one-shot polls re-armed when done --------------------------------------

    def _arm(self) -> None:
        if self.auto and self._timer is None:
            self._timer = self.set_timer(self.auto_interval, self._poll)

    def _poll(self) -> None:
        self._timer = None
        if self.auto:
            self._refresh(self.current)

    def action_auto(self) -> None:
        if self.state.replay:
            self.notify(self.text("tables.replay_no_refresh"), timeout=3)
            return
        self.auto = not self.auto
        if self.auto:
            if not self._refresh(self.current):
                self._arm()
        elif self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._status()

    def action_refresh(self) -> None:
        if self.state.replay:
            self.notify(self.text("tables.replay_no_refresh"), timeout=3)
            return
        self._refresh(self.current)
