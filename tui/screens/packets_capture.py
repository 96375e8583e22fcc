"""The Packets screen's engine room: finding the source, running the live capture.

:class:`CaptureScreen` holds the screen's state and everything that decides which
packets are listed — the recorded ones of a session, or a live capture opened in a
worker on the path's interfaces. Its parts are the recorded view
(:mod:`.packets_recorded`) and what the screen says about itself, the status line
and the notes (:mod:`.packets_status`). The layout, the selected packet's panes and
the keys live in :mod:`.packets` (its subclass).

Changing the BPF filter opens a *new* capture first; only when it opens is the
old one stopped, so a filter libpcap rejects leaves the running capture as it
was, with the one-line error shown under the filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on
from textual.screen import Screen
from textual.widgets import Input, Label
from textual.worker import Worker, WorkerState, get_current_worker

from vnetdoctor.knowledge.text import Translator
from vnetdoctor.probes.capture import DEFAULT_FILTER, FilterError, capture_failures, decode_layers
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.vantage import Vantage

from ..path_trace import PathTracker
from ..state import SessionState
from ..table_sources import session_observations, session_runs
from ..widgets.packet_filter import DisplayFilter
from ..widgets.packet_list import PacketList
from ..widgets.path_view import PathView
from .packets_recorded import TALLY_FIRST, RecordedPackets, path_tracker
from .packets_source import (
    BATCH_ROWS,
    DRAIN_INTERVAL,
    MAX_PACKETS,
    CaptureFactory,
    CaptureOpened,
    CaptureRefused,
    Decoder,
    Feed,
    LiveChosen,
    PacketsPending,
    PathTallied,
    Recorded,
    RecordedLoaded,
    _default_capture,
    capture_blocker,
    recorded_capture,
    unopened,
)
from .packets_status import PacketsStatus


class CaptureScreen(RecordedPackets, PacketsStatus, Screen[None]):
    """The state of a Packets screen and where its packets come from (see :class:`.packets.PacketsScreen`)."""

    def __init__(
        self,
        state: SessionState,
        *,
        capture_factory: CaptureFactory | None = None,
        capture_blocked: Callable[[], str | None] | None = None,
        decoder: Decoder | None = None,
        clock: Callable[[], float] = time.time,
        drain_interval: float = DRAIN_INTERVAL,
        save_dir: str | None = None,
        max_packets: int = MAX_PACKETS,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.state = state
        self.text = Translator(state.lang)
        self._capture_factory = capture_factory or _default_capture
        self._capture_blocked = capture_blocked or capture_blocker
        self._decoder = decoder or decode_layers
        self._clock = clock
        self._drain_interval = drain_interval
        self._save_dir = save_dir
        self._max_packets = max_packets
        self.mode = "starting"  # starting | live | recorded | blocked | nopath
        self.paused = False
        self.bpf = DEFAULT_FILTER
        self.feed: Feed | None = None
        self._generation = 0
        self._accepted_generation = 0
        self.points: list[tuple[Vantage, str]] = []
        self.failed: dict[tuple[str, str], str] = {}  # (vantage, iface) not opened -> why
        self.pane = "path"
        self.block_reason = ""
        self.last_message = ""
        self.filter_error = ""
        self.not_listed = 0  # packets beyond MAX_PACKETS (saved pcaps hold what is listed)
        self.recorded_rows: list[PacketRow] = []  # every recorded packet, listed or filtered out
        self.display_filter: DisplayFilter | None = None  # "/" on recorded packets
        self._tracker = PathTracker()
        self._can_go_live = not state.replay  # an action a replay forbids; its data comes from the session
        self.all_recorded = Recorded((), (), "")
        self.runs: list[Recorded] = []  # each walk's packets, when the session holds more than one
        self.run_choice: int | None = None  # None: all runs
        self.trackers: list[PathTracker] = []  # the path view's tallies of all runs, then of each run
        self.unlisted: list[PacketRow] = []  # recorded rows past the pages listed so far

    # --- where the packets come from -------------------------------------------------------

    def _load(self) -> None:
        """Recorded packets (replay, or a walk that captured) or a live capture."""
        self.run_worker(self._find_source, thread=True, group="source", exit_on_error=False)

    def _find_source(self) -> None:
        """Worker: ask the session (which may be slow) what it holds and where the path is.

        The session serves its observations the same way live and in a replay (at
        the timeline's selected point); packets it holds are listed, and where it
        holds none a live capture starts if this screen may capture at all.
        """
        points = self._path_points()
        recorded = recorded_capture(session_observations(self.state), points)
        if recorded.rows or not self._can_go_live:
            runs = session_runs(self.state)
            per_run = [recorded_capture(run, points) for run in runs] if len(runs) > 1 else []
            if per_run:  # every walk's packets, not only the latest run of each step
                recorded = recorded_capture([o for run in runs for o in run], points)
            # The path view's tally of 100k frames takes half a second: for a big recording it
            # is made once the first rows are on screen (the path view fills a moment later).
            small = len(recorded.rows) <= TALLY_FIRST
            trackers = [path_tracker(r.rows) for r in (recorded, *per_run)] if small else []
            self.post_message(RecordedLoaded(recorded, points, per_run, trackers))
        else:
            self.post_message(LiveChosen(points))

    def _path_points(self) -> list[tuple[Vantage, str]]:
        engine = self.state.engine
        points: list[tuple[Vantage, str]] = []
        if engine is not None:
            try:
                points = list(engine.path_points())
            except Exception:  # noqa: BLE001 - no path yet: fall back to the state's
                points = []
        return points or list(self.state.path_ifaces)

    @on(RecordedLoaded)
    def _on_recorded(self, message: RecordedLoaded) -> None:
        self.mode = "recorded"
        self.points = message.points
        self.all_recorded = message.recorded  # its failures are set with the run listed (_list_recorded)
        self.runs = list(message.runs)
        self.run_choice = None
        if message.recorded.bpf:
            self.bpf = message.recorded.bpf
        flt = self.query_one("#pk-filter", Input)
        # The recording's BPF filter is history (the title keeps it): "/" filters what is shown.
        flt.value, flt.placeholder = "", self.text("packets.show_placeholder")
        self.query_one("#pk-filter-label", Label).update(self.text("packets.show_label"))
        self.trackers = list(message.trackers)
        self._list_recorded(message.recorded, self.trackers[0] if self.trackers else None)
        self.refresh_bindings()
        if not self.trackers:
            recordings = [message.recorded, *message.runs]
            self.call_after_refresh(lambda: self.run_worker(
                lambda: self.post_message(PathTallied([path_tracker(r.rows) for r in recordings])),
                thread=True, group="tally", exit_on_error=False))

    @on(PathTallied)
    def _on_tallied(self, message: PathTallied) -> None:
        if self.mode != "recorded" or self.trackers:
            return
        self.trackers = list(message.trackers)
        index = 0 if self.run_choice is None else self.run_choice + 1
        if index < len(self.trackers) and self.display_filter is None:
            self._tracker = self.trackers[index]
            self._update_path()

    @on(LiveChosen)
    def _on_live_chosen(self, message: LiveChosen) -> None:
        self.points = message.points
        self._go_live()

    def _go_live(self) -> None:
        blocked = self._capture_blocked()
        flt = self.query_one("#pk-filter", Input)
        self.display_filter = None
        flt.placeholder = self.text("packets.filter_placeholder")
        self.query_one("#pk-filter-label", Label).update(self.text("packets.filter_label"))
        if blocked:
            self.mode = "blocked"
            self.block_reason = blocked
        elif not self.points:
            self.mode = "nopath"
        else:
            self.mode = "starting"
            flt.disabled = False
            self._open(self.bpf)
        self._update_path()
        self._refresh_notes()
        self._refresh_status()
        self.refresh_bindings()

    def _open(self, bpf: str) -> None:
        """Start a capture with ``bpf``; the running one stays until the new one opens."""
        self._generation += 1
        generation = self._generation
        points = list(self.points)
        self.run_worker(
            lambda: self._capture_loop(points, bpf, generation),
            thread=True,
            group=f"capture-{generation}",
            exit_on_error=False,
        )

    def _capture_loop(self, points: list[tuple[Vantage, str]], bpf: str, generation: int) -> None:
        """Worker: open the capture, then drain it every ~200 ms until closed or cancelled."""
        worker = get_current_worker()
        try:
            capture = self._capture_factory(points, bpf)
            failed = capture.start()
        except FilterError as exc:
            self.post_message(CaptureRefused(bpf, str(exc), True, generation))
            return
        except Exception as exc:  # noqa: BLE001 - shown as one line, never a traceback
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.post_message(CaptureRefused(bpf, reason, False, generation))
            return
        feed = Feed(generation, bpf)
        self.post_message(CaptureOpened(feed, points, capture_failures(points, failed), self._clock()))
        try:
            while not worker.is_cancelled and not feed.closed.is_set():
                feed.closed.wait(self._drain_interval)
                rows = capture.drain()
                if rows:
                    feed.put(rows)
                if feed.waiting() and not feed.closed.is_set():
                    self.post_message(PacketsPending(feed))
        finally:
            capture.stop()

    @on(CaptureOpened)
    def _on_opened(self, message: CaptureOpened) -> None:
        feed = message.feed
        if feed.generation <= self._accepted_generation or self.mode not in ("starting", "live"):
            feed.closed.set()  # an older request that opened late, or the screen moved on
            return
        if self.feed is not None:
            self.feed.closed.set()
        self._accepted_generation = feed.generation
        self.feed = feed
        self.bpf = feed.bpf
        self.failed = unopened(message.failed)
        self.mode = "live"
        self._set_filter_error("")
        plist = self.query_one(PacketList)
        if plist.t0 is None:
            plist.t0 = message.started
        self._update_path()
        self._refresh_notes()
        self._refresh_status()
        self.refresh_bindings()

    @on(CaptureRefused)
    def _on_refused(self, message: CaptureRefused) -> None:
        """A filter libpcap rejects, or a capture that could not start at all.

        The filter text stays in the input for the operator to fix; whatever was
        capturing before goes on (the status line still names its filter).
        """
        if message.bad_filter:
            self._set_filter_error(message.reason)
        else:
            self.last_message = self.text("packets.capture_failed", reason=message.reason)
        if self.feed is None and message.generation == self._generation:
            self.mode = "failed"
        self._refresh_status()
        self.refresh_bindings()

    @on(PacketsPending)
    def _on_pending(self, message: PacketsPending) -> None:
        if message.feed is not self.feed:
            return
        if not self.paused:
            self._add(message.feed.take(BATCH_ROWS))  # the rest with the next tick
        self._refresh_status()

    def _add(self, rows: list[PacketRow]) -> None:
        if not rows:
            return
        plist = self.query_one(PacketList)
        room = self._max_packets - len(plist.packets)
        if len(rows) > room:
            self.not_listed += len(rows) - max(room, 0)
            rows = rows[: max(room, 0)]
        if not rows:
            return
        first = not plist.packets
        plist.add_packets(rows)
        if first:
            self._refresh_notes()  # the "waiting for packets" line goes
        tagged = [r for r in rows if r.tag]
        if tagged:
            self._tracker.add(tagged)
            self._update_path()

    def _update_path(self) -> None:
        unavailable = [(vantage, iface) for vantage, iface in self.failed if iface]
        path = [(str(v), iface) for v, iface in self.points]
        default = -1 if self.state.request is not None and self.state.request.from_side == "guest" else 1
        self.query_one(PathView).show(self._tracker.trace(path, unavailable, default_direction=default))

    @on(Worker.StateChanged)
    def _on_worker(self, event: Worker.StateChanged) -> None:
        """A worker that crashed (a bug, not a capture problem: those are messages) says so once."""
        if event.state != WorkerState.ERROR:
            return
        error = f"{type(event.worker.error).__name__}: {event.worker.error}".splitlines()[0]
        self.last_message = self.text("packets.worker_failed", error=error)
        if event.worker.group == "source" and self.mode == "starting":
            self.mode = "failed"
        self._refresh_status()

    # --- leaving -------------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        """Stop the capture now; Textual cancels the workers, whose loops then end."""
        if self.feed is not None:
            self.feed.closed.set()
        self.workers.cancel_node(self)
