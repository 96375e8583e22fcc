"""The Packets screen's recorded view: which run is listed, the display filter, and paging.

A recording can hold 100,000 frames. Listing them all in the table costs seconds
(the table measures every cell), so the recorded view lists one page and appends
the next when the cursor reaches the last listed row; the status line says how many
are listed. The path view, saving and the counts always use every recorded (or
filtered) row, never only the listed page.

A session with a re-run holds several walks' frames: ``r`` cycles all runs → the
first → each re-run (issue 10). Part of :class:`.packets_capture.CaptureScreen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import Input

from vnetdoctor.probes.rows import PacketRow

from ..path_trace import PathTracker
from ..widgets.packet_filter import FilterSyntaxError, parse_display_filter
from ..widgets.packet_list import PacketList
from .packets_source import Recorded, unopened

PAGE_ROWS = 500  # recorded rows listed at a time: ~50 ms of table work, 20 screens of rows
TALLY_FIRST = 5000  # up to this many frames the path view is tallied before the rows are listed


def path_tracker(rows: Sequence[PacketRow]) -> PathTracker:
    """The path view's tally of ``rows`` (their probe packets); built off the UI thread for big recordings."""
    tracker = PathTracker()
    tagged = [r for r in rows if r.tag]
    if tagged:
        tracker.add(tagged)
    return tracker


class RecordedPackets:
    """The recorded-packets half of the Packets screen (a mixin of its state class)."""

    # Provided by CaptureScreen (declared for readers; set in its __init__).
    recorded_rows: list[PacketRow]
    unlisted: list[PacketRow]
    runs: list[Recorded]
    trackers: list[PathTracker]
    run_choice: int | None
    all_recorded: Recorded
    failed: dict[tuple[str, str], str]
    display_filter: Any
    mode: str
    not_listed: int
    text: Any
    query_one: Any
    _tracker: PathTracker

    def _list_recorded(self, recorded: Recorded, tracker: PathTracker | None = None) -> None:
        """List one run's (or every run's) recorded packets from the start, unfiltered.

        ``tracker``: the path view's tally of these rows, made by the worker; the path
        view follows every packet, listed yet or not.
        """
        self.failed = unopened(recorded.failed)
        self.recorded_rows = list(recorded.rows)
        self.display_filter = None
        self.query_one("#pk-filter", Input).value = ""
        self.not_listed = 0
        if tracker is None and len(recorded.rows) > TALLY_FIRST:
            tracker = PathTracker()  # the worker's tally follows (PathTallied)
        self._tracker = tracker if tracker is not None else path_tracker(recorded.rows)
        self._list_rows(self.recorded_rows)
        self._update_path()  # type: ignore[attr-defined]
        self._refresh_notes()  # type: ignore[attr-defined]
        self._refresh_status()  # type: ignore[attr-defined]

    def _list_rows(self, rows: Sequence[PacketRow]) -> None:
        plist = self.query_one(PacketList)
        t0 = min((r.time for r in self.recorded_rows), default=None)
        plist.clear_packets()
        plist.t0 = t0  # times stay relative to the recording's start, filtered or not
        self.unlisted = list(rows[PAGE_ROWS:])
        plist.add_packets(list(rows[:PAGE_ROWS]))
        if plist.row_count:
            plist.move_cursor(row=0)  # a recording reads from its start

    def more_recorded(self) -> bool:
        """The cursor reached the last listed row: list the next page (False: all are listed)."""
        if self.mode != "recorded" or not self.unlisted:
            return False
        plist = self.query_one(PacketList)
        if plist.cursor_row < plist.row_count - 1:
            return False
        page, self.unlisted = self.unlisted[:PAGE_ROWS], self.unlisted[PAGE_ROWS:]
        keep = plist.cursor_row
        plist.add_packets(page)
        plist.move_cursor(row=keep)  # the operator moves on from where they were
        self._refresh_status()  # type: ignore[attr-defined]
        return True

    def shown_rows(self) -> list[PacketRow]:
        """Every packet the list stands for: listed, and in the pages not listed yet."""
        return [*self.query_one(PacketList).packets, *self.unlisted]

    def pick_run(self) -> None:
        """Next run of the recording: all runs → the first → each re-run → all runs again."""
        if self.mode != "recorded" or len(self.runs) < 2:
            return
        choice = self.run_choice
        self.run_choice = 0 if choice is None else (choice + 1 if choice + 1 < len(self.runs) else None)
        index = 0 if self.run_choice is None else self.run_choice + 1
        tracker = self.trackers[index] if index < len(self.trackers) else None
        self._list_recorded(self.all_recorded if self.run_choice is None else self.runs[self.run_choice], tracker)

    def run_label(self) -> str:
        """Which run is listed ("all 3 runs", "first run", "re-run 1/2"); "" with one run."""
        if len(self.runs) < 2:
            return ""
        if self.run_choice is None:
            return self.text("packets.run.all", count=len(self.runs))
        if self.run_choice == 0:
            return self.text("packets.run.first")
        return self.text("packets.run.rerun", n=self.run_choice, count=len(self.runs) - 1)

    def show_only(self, text: str) -> None:
        """Apply the display filter ``text`` to the recorded packets (empty: show them all)."""
        try:
            flt = parse_display_filter(text)
        except FilterSyntaxError as exc:
            self._set_filter_error(self.text("packets.show_unknown", field=str(exc)))  # type: ignore[attr-defined]
            return
        self._set_filter_error("")  # type: ignore[attr-defined]
        self.display_filter = flt
        self.query_one("#pk-filter", Input).value = text if flt is not None else ""
        sides, words = self._side_names(), self._side_names(localized=False)  # type: ignore[attr-defined]
        self._list_rows([r for r in self.recorded_rows if flt is None or flt.matches(r, sides, words)])
        self._refresh_status()  # type: ignore[attr-defined]


__all__ = ["PAGE_ROWS", "TALLY_FIRST", "RecordedPackets", "path_tracker"]
