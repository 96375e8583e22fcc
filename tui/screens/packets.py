"""The Packets screen: live capture on the path's interfaces, or the session's recorded packets.

What the operator would otherwise do with one ``tcpdump -i IFACE 'icmp or arp'``
per interface and per namespace, side by side: a packet list, the selected
packet's layers and bytes, and the *path view* that lines the probe packets up
against the interfaces of the path — the place where "the echo request reached
vnet0 but never the guest's eth0" becomes visible.

Threads and the UI: the capture's reader thread belongs to ``probes.capture``; a
thread worker of this screen drains it every ~200 ms into a :class:`Feed` and
posts a :class:`PacketsPending` notice. Notices for one feed merge
(``can_replace``), so a flood costs the UI thread one batch per frame, never one
message per packet. Decoding (scapy) and writing a pcap also run in workers. No
widget is touched from a thread.

Changing the BPF filter opens a *new* capture first; only when it opens is the
old one stopped, so a filter libpcap rejects leaves the running capture as it
was, with the one-line error shown under the filter.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker
from vnetdoctor.probes.capture import (
    DEFAULT_FILTER,
    Capture,
    FilterError,
    decode_layers,
    pcap_bytes,
)
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.knowledge.text import Translator

from ..i18n import translate_bindings
from ..state import SessionState
from ..table_sources import engine_observations
from ..widgets.packet_detail import HexView, PacketLayers
from ..widgets.packet_list import WIDE, PacketList
from ..widgets.path_view import PathTracker, PathView
from ..widgets.title_bar import TitleBar, request_line
from .commands import ScreenCommands

DRAIN_INTERVAL = 0.2  # seconds between drains of the capture: ~5 list updates a second
WIDE_DETAIL = 150  # from this width layers, hex and path are shown side by side
MAX_PACKETS = 20000  # the view keeps at most this many (the capture's own limit too)
# Rows listed per notice. DataTable measures every new cell when it next idles, so a
# flood is listed in slices, one per drain tick (~2500 rows/s), and keys get in between.
BATCH_ROWS = 500
PANES = ("layers", "hex", "path")
PANE_KEYS = Binding.Group("packets.key.panes", compact=True)  # "lxp" in the footer


class CaptureLike(Protocol):
    """What the screen needs of :class:`~vnetdoctor.probes.capture.Capture` (tests fake it)."""

    def start(self) -> dict[str, str]: ...
    def drain(self) -> list[PacketRow]: ...
    def stop(self, linger: float = 0.0) -> list[PacketRow]: ...


CaptureFactory = Callable[[Sequence[tuple[Vantage, str]], str], CaptureLike]
Decoder = Callable[[PacketRow], list[tuple[str, list[tuple[str, str]]]]]


def _default_capture(points: Sequence[tuple[Vantage, str]], bpf: str) -> CaptureLike:
    return Capture(points, bpf=bpf)


def capture_blocker() -> str | None:
    """Why this process cannot capture at all ("needs CAP_NET_RAW"), or None."""
    from vnetdoctor.probes.caps import NEED_NET_RAW, missing_need

    return missing_need(NEED_NET_RAW)


# --- the recorded packets of a session --------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """Packets the engine's observations carry, and the capture's own account of itself."""

    rows: tuple[PacketRow, ...]
    failed: dict[str, str]  # "iface@vantage" -> why it could not be opened
    bpf: str


def recorded_capture(observations: Iterable[Any]) -> Recorded:
    """Collect the PacketRows of every observation (the symptom step's trace carries them).

    A capture observation lists the points it could not open in ``raw`` as
    ``"point: reason; point: reason"`` (or ``"listened on …"`` when all opened).
    """
    rows: list[PacketRow] = []
    failed: dict[str, str] = {}
    bpf = ""
    seen: set[tuple[float, str, str, str]] = set()
    for obs in observations:
        packets = [r for r in obs.rows if isinstance(r, PacketRow)]
        if not packets and not obs.probe.startswith("capture"):
            continue
        bpf = obs.param("filter", bpf) if hasattr(obs, "param") else bpf
        raw = getattr(obs, "raw", "") or ""
        if obs.probe.startswith("capture") and raw and not raw.startswith("listened on"):
            for part in raw.split("; "):
                point, sep, reason = part.partition(": ")
                if sep:
                    failed[point] = reason
        for r in packets:
            ident = (r.time, r.vantage, r.iface, r.data_hex)
            if ident not in seen:
                seen.add(ident)
                rows.append(r)
    rows.sort(key=lambda r: r.time)
    return Recorded(tuple(rows), failed, bpf)


def point_from_text(text: str) -> tuple[str, str] | None:
    """``"vnet0@netns:lab"`` (CapturePoint's text) → ``("netns:lab", "vnet0")``."""
    iface, sep, vantage = text.partition("@")
    return (vantage, iface) if sep else None


# --- messages (posted from workers; small and immutable) ---------------------------------


class Feed:
    """The buffer between one capture's drain thread and the UI thread."""

    def __init__(self, generation: int, bpf: str) -> None:
        self.generation = generation
        self.bpf = bpf
        self.closed = threading.Event()  # set by the UI thread: stop draining, stop the capture
        self._lock = threading.Lock()
        self._rows: list[PacketRow] = []

    def put(self, rows: Sequence[PacketRow]) -> None:
        with self._lock:
            self._rows.extend(rows)

    def take(self, limit: int | None = None) -> list[PacketRow]:
        """Up to ``limit`` of the oldest waiting rows (all of them without a limit)."""
        with self._lock:
            if limit is None or len(self._rows) <= limit:
                rows, self._rows = self._rows, []
            else:
                rows, self._rows = self._rows[:limit], self._rows[limit:]
        return rows

    def waiting(self) -> int:
        with self._lock:
            return len(self._rows)


@dataclass
class PacketsPending(Message):
    """New packets wait in ``feed``; notices for one feed merge (the buffer holds them all)."""

    feed: Feed

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PacketsPending) and message.feed is self.feed


@dataclass
class CaptureOpened(Message):
    feed: Feed
    points: list[tuple[Vantage, str]]
    failed: dict[str, str]
    started: float


@dataclass
class CaptureRefused(Message):
    """The capture did not start: a bad filter (``bad_filter``) or another reason."""

    bpf: str
    reason: str
    bad_filter: bool
    generation: int


@dataclass
class RecordedLoaded(Message):
    recorded: Recorded
    points: list[tuple[Vantage, str]]


@dataclass
class LiveChosen(Message):
    """Nothing was recorded: start the live capture (points resolved off the UI thread)."""

    points: list[tuple[Vantage, str]]
    note: str = ""


@dataclass
class LayersDecoded(Message):
    key: str
    layers: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    error: str = ""


@dataclass
class PcapSaved(Message):
    path: str
    count: int = 0
    error: str = ""


# --- the save dialog ----------------------------------------------------------------------


class SaveDialog(ModalScreen[str | None]):
    """Asks for the pcap file name; Enter saves, esc cancels."""

    DEFAULT_CSS = """
    SaveDialog {
        align: center middle;
    }
    SaveDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    SaveDialog Input {
        width: 100%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "packets.save.cancel", id="packets.save.cancel")]

    def __init__(self, text: Translator, default: str) -> None:
        super().__init__()
        self.text = text
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.text("packets.save.prompt"))
            yield Input(self.default, id="save-name", compact=True)
            yield Label(self.text("packets.save.hint"), classes="hint")

    def on_mount(self) -> None:
        translate_bindings(self, self.text.lang)
        self.query_one("#save-name", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OverwriteDialog(ModalScreen[bool]):
    """The file exists: replace it? *Cancel* has the focus, so Enter or esc keeps the file."""

    AUTO_FOCUS = "#keep"
    DEFAULT_CSS = """
    OverwriteDialog {
        align: center middle;
    }
    OverwriteDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        border: round $warning;
        padding: 0 1;
        background: $surface;
    }
    OverwriteDialog Horizontal {
        height: auto;
        margin-top: 1;
    }
    OverwriteDialog Button {
        margin-right: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "packets.save.cancel", id="packets.save.overwrite_cancel"),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, text: Translator, path: str) -> None:
        super().__init__()
        self.text = text
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.text("packets.save.overwrite_title"), style="bold"))
            yield Label(Text(self.text("packets.save.overwrite_question", path=self.path)))
            with Horizontal():
                yield Button(self.text("packets.save.keep"), id="keep", variant="primary", compact=True)
                yield Button(self.text("packets.save.overwrite"), id="replace", variant="error", compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.text.lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "replace")

    def action_cancel(self) -> None:
        self.dismiss(False)


def write_file(path: str, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` without ever writing through a symbolic link.

    This runs as root, and ``path`` may be in a directory others can write: the
    bytes go to a new temporary file in the same directory (``mkstemp``: ``O_EXCL``,
    a name nobody could have prepared), which then takes ``path``'s place. Renaming
    replaces a symlink itself, never its target; without ``replace`` a hard link
    puts it there only if nothing (not even a dangling link) has that name, so a
    file that appeared after the operator was asked is not clobbered either.
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # as `export -o` writes: readable by the operator's own account
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise
            # A file system without hard links: O_EXCL|O_NOFOLLOW refuses any existing name.
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass  # renamed into place


# --- the screen -------------------------------------------------------------------------------


class PacketsScreen(Screen[None]):
    """Packets on the path: list, layers, hex, the path view; live or recorded."""

    COMMANDS: ClassVar[set[type[Provider]]] = {ScreenCommands}  # its enabled keys, nothing else

    AUTO_FOCUS = "#pk-list"

    DEFAULT_CSS = """
    PacketsScreen {
        layout: vertical;
    }
    #pk-filter-row {
        height: 1;
    }
    #pk-filter-label {
        width: auto;
        padding: 0 1;
    }
    #pk-filter {
        width: 1fr;
    }
    #pk-filter-error, #pk-notes {
        height: auto;
        max-height: 2;
        padding: 0 1;
        display: none;
    }
    #pk-filter-error {
        text-style: bold;
        color: $error;
    }
    #pk-filter-error.-shown, #pk-notes.-shown {
        display: block;
    }
    #pk-list {
        height: 1fr;
    }
    #pk-detail {
        height: 11;
    }
    #pk-detail > * {
        border-top: solid $primary;
        border-title-align: left;
        height: 1fr;
    }
    PacketsScreen.-wide #pk-detail {
        height: 45%;
    }
    #pk-title > #title-right {
        max-width: 40%;
    }
    PacketsScreen.-wide #pk-layers {
        width: 36;
    }
    PacketsScreen.-wide #pk-hex {
        width: 74;
        border-left: vkey $primary;
    }
    PacketsScreen.-wide #pk-path {
        width: 1fr;
        border-left: vkey $primary;
    }
    PacketsScreen.-narrow #pk-detail > * {
        display: none;
        width: 1fr;
    }
    PacketsScreen.-narrow.-pane-layers #pk-layers,
    PacketsScreen.-narrow.-pane-hex #pk-hex,
    PacketsScreen.-narrow.-pane-path #pk-path {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "packets.key.back", id="packets.back"),
        Binding("slash", "edit_filter", "packets.key.filter", id="packets.filter", key_display="/"),
        Binding("space", "pause", "packets.key.pause", id="packets.pause"),
        Binding("s", "save", "packets.key.save", id="packets.save"),
        Binding("l", "pane('layers')", "packets.key.layers", id="packets.layers", group=PANE_KEYS),
        Binding("x", "pane('hex')", "packets.key.hex", id="packets.hex", group=PANE_KEYS),
        Binding("p", "pane('path')", "packets.key.path", id="packets.path", group=PANE_KEYS),
        Binding("ctrl+l", "clear", "packets.key.clear", id="packets.clear", show=False),
        Binding("c", "live", "packets.key.live", id="packets.live"),
        Binding("end", "follow", "packets.key.follow", id="packets.follow", show=False),
    ]

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
        self.text = translate_bindings(self, state.lang)
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
        self.failed: dict[str, str] = {}
        self.pane = "path"
        self.block_reason = ""
        self.last_message = ""
        self.filter_error = ""
        self.not_listed = 0  # packets beyond MAX_PACKETS (saved pcaps hold what is listed)
        self._tracker = PathTracker()
        self._can_go_live = not state.replay

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar(Text(self.text("packets.status.starting"), style="bold"), "", id="pk-title")
        with Horizontal(id="pk-filter-row"):
            yield Label(self.text("packets.filter_label"), id="pk-filter-label")
            yield Input(
                self.bpf,
                placeholder=self.text("packets.filter_placeholder"),
                id="pk-filter",
                compact=True,
            )
        yield Static("", id="pk-filter-error", markup=False)
        yield Static("", id="pk-notes", markup=False)
        yield PacketList(id="pk-list")
        with Horizontal(id="pk-detail"):
            yield PacketLayers(self.text, id="pk-layers")
            yield HexView(self.text, id="pk-hex")
            yield PathView(self.text, id="pk-path")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TitleBar).set_right(request_line(self.state))
        sides = self._side_names()
        self.query_one(PathView).side_of = sides
        self.query_one(PacketList).side_of = sides
        self._apply_layout(self.size.width or self.app.size.width)
        self._set_pane(self.pane)
        self._refresh_status()
        self._load()

    def on_resize(self) -> None:
        self._apply_layout(self.size.width)

    def _apply_layout(self, width: int) -> None:
        wide_detail = width >= WIDE_DETAIL
        self.set_class(wide_detail, "-wide")
        self.set_class(not wide_detail, "-narrow")
        plist = self.query_one(PacketList)
        wide_list = width >= WIDE
        if not plist.columns or plist.wide != wide_list:
            plist.fit_width = width
            plist.setup(self._headers(), wide_list)
        else:
            plist.refit(width)
        self._title_panes()

    def _headers(self) -> dict[str, str]:
        keys = ("no", "time", "iface", "vantage", "dir", "flow", "proto", "len", "info")
        return {k: self.text(f"packets.col.{k}") for k in keys}

    def _side_names(self) -> dict[str, str]:
        req = self.state.request
        out: dict[str, str] = {}
        if req is not None:
            if req.guest is not None:
                out[str(req.guest)] = self.text("views.side.guest")
            out[str(req.host)] = self.text("views.side.host")
        return out

    def _title_panes(self) -> None:
        narrow = self.has_class("-narrow")
        for pane in PANES:
            widget = self.query_one(f"#pk-{pane}")
            if narrow:
                parts = []
                for other in PANES:
                    label = f"{self.text('packets.pane.' + other)} ({self._key_of(other)})"
                    parts.append(f"[reverse] {label} [/]" if other == pane else f" {label} ")
                widget.border_title = "".join(parts)
            else:
                widget.border_title = f"{self.text('packets.pane.' + pane)} ({self._key_of(pane)})"

    @staticmethod
    def _key_of(pane: str) -> str:
        return {"layers": "l", "hex": "x", "path": "p"}[pane]

    def _set_pane(self, pane: str) -> None:
        self.pane = pane
        for other in PANES:
            self.set_class(other == pane, f"-pane-{other}")
        self._title_panes()

    # --- where the packets come from -------------------------------------------------------

    def _load(self) -> None:
        """Recorded packets (replay, or a walk that captured) or a live capture."""
        self.run_worker(self._find_source, thread=True, group="source", exit_on_error=False)

    def _find_source(self) -> None:
        """Worker: ask the engine (which may be slow) what was recorded and where the path is."""
        engine = self.state.engine
        points = self._path_points()
        recorded = recorded_capture(engine_observations(engine))
        if self.state.replay or recorded.rows:
            self.post_message(RecordedLoaded(recorded, points))
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
        self.failed = dict(message.recorded.failed)
        if message.recorded.bpf:
            self.bpf = message.recorded.bpf
        flt = self.query_one("#pk-filter", Input)
        flt.value = message.recorded.bpf
        flt.disabled = True
        plist = self.query_one(PacketList)
        plist.clear_packets()
        self._tracker = PathTracker()
        self._add(list(message.recorded.rows))
        if plist.row_count:
            plist.move_cursor(row=0)  # a recording reads from its start
        self._update_path()
        self._refresh_notes()
        self._refresh_status()
        self.refresh_bindings()

    @on(LiveChosen)
    def _on_live_chosen(self, message: LiveChosen) -> None:
        self.points = message.points
        self._go_live()

    def _go_live(self) -> None:
        blocked = self._capture_blocked()
        flt = self.query_one("#pk-filter", Input)
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
        self.post_message(CaptureOpened(feed, points, dict(failed), self._clock()))
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
        self.failed = message.failed
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
        plist.add_packets(rows)
        tagged = [r for r in rows if r.tag]
        if tagged:
            self._tracker.add(tagged)
            self._update_path()

    def _update_path(self) -> None:
        unavailable = [p for p in (point_from_text(t) for t in self.failed) if p is not None]
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

    # --- status lines ------------------------------------------------------------------------

    def _refresh_status(self) -> None:
        plist = self.query_one(PacketList)
        n = len(plist.packets)
        t = self.text
        if self.mode == "recorded":
            line = t("packets.status.recorded", count=n)
        elif self.mode == "live":
            waiting = self.feed.waiting() if self.feed is not None else 0
            if self.paused:
                line = t("packets.status.paused", count=n, waiting=waiting)
            else:
                line = t("packets.status.live", count=n, points=len(self.points) - len(self.failed), bpf=self.bpf)
        elif self.mode == "blocked":
            line = t("packets.status.blocked", reason=self.block_reason)
        elif self.mode == "nopath":
            line = t("packets.status.nopath")
        elif self.mode == "failed":
            line = t("packets.status.failed")
        else:
            line = t("packets.status.starting")
        if self.not_listed:
            line = f"{line} · {t('packets.status.full', count=self.not_listed, limit=self._max_packets)}"
        if self.last_message:
            line = f"{line} · {self.last_message}"
        self.query_one(TitleBar).set_left(Text(line, style="bold"))

    def _refresh_notes(self) -> None:
        notes = self.query_one("#pk-notes", Static)
        lines = []
        if self.mode == "blocked":
            lines.append(self.text("packets.note.blocked", reason=self.block_reason))
        if self.failed:
            items = "; ".join(f"{p}: {why}" for p, why in self.failed.items())
            lines.append(self.text("packets.note.skipped", items=items))
        notes.update("\n".join(lines))
        notes.set_class(bool(lines), "-shown")

    def _set_filter_error(self, error: str) -> None:
        self.filter_error = error
        box = self.query_one("#pk-filter-error", Static)
        box.update(error)
        box.set_class(bool(error), "-shown")

    # --- the selected packet -------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#pk-list")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    @on(DataTable.RowSelected, "#pk-list")
    def _on_select(self, event: DataTable.RowSelected) -> None:
        self._show_selected()
        if self.has_class("-narrow"):
            self._set_pane("layers")

    def _show_selected(self) -> None:
        plist = self.query_one(PacketList)
        row = plist.selected()
        self.query_one(HexView).show_packet(row)
        if row is None:
            return
        key = str(plist.cursor_row)
        layers = self.query_one(PacketLayers)
        if layers.shown_key == key:
            return
        self.run_worker(
            lambda: self._decode(key, row), thread=True, group="decode", exclusive=True, exit_on_error=False
        )

    def _decode(self, key: str, row: PacketRow) -> None:
        """Worker: scapy decoding (its import alone takes half a second)."""
        try:
            layers = self._decoder(row)
        except Exception as exc:  # noqa: BLE001 - an undecodable frame still has its hex dump
            self.post_message(LayersDecoded(key, error=f"{type(exc).__name__}: {exc}".splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(LayersDecoded(key, [(n, list(f)) for n, f in layers]))

    @on(LayersDecoded)
    def _on_decoded(self, message: LayersDecoded) -> None:
        plist = self.query_one(PacketList)
        if str(plist.cursor_row) != message.key:
            return  # the cursor moved on meanwhile
        layers = self.query_one(PacketLayers)
        if message.error:
            layers.show_message(self.text("packets.detail.undecodable", error=message.error))
        else:
            layers.show_layers(message.key, message.layers)

    # --- the filter ------------------------------------------------------------------------------

    @on(Input.Submitted, "#pk-filter")
    def _on_filter(self, event: Input.Submitted) -> None:
        expr = event.value.strip()
        self.query_one(PacketList).focus()
        if self.mode not in ("live", "starting", "failed"):
            return
        if expr == self.bpf and self.feed is not None:
            self._set_filter_error("")
            return
        self._open(expr)

    def action_edit_filter(self) -> None:
        flt = self.query_one("#pk-filter", Input)
        if not flt.disabled:
            flt.focus()

    # --- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return self.mode == "live"
        if action == "live":
            return self.mode == "recorded" and self._can_go_live
        if action == "edit_filter":
            return self.mode in ("live", "starting", "failed")
        # All panes are visible on a wide terminal: no pane keys there.
        return not (action == "pane" and self.has_class("-wide"))

    def action_back(self) -> None:
        flt = self.query_one("#pk-filter", Input)
        if flt.has_focus:
            flt.value = self.bpf
            self.query_one(PacketList).focus()
            return
        self.app.pop_screen()

    def help_intro(self) -> str:
        """What the App's help screen says about this screen above its keys."""
        return self.text("packets.help_intro")

    def action_pause(self) -> None:
        if self.mode != "live":
            return
        self.paused = not self.paused
        if not self.paused and self.feed is not None:
            self._add(self.feed.take(BATCH_ROWS))  # the rest with the next ticks
        self._refresh_status()

    def action_clear(self) -> None:
        plist = self.query_one(PacketList)
        plist.clear_packets()
        self.not_listed = 0
        if self.mode == "live":
            plist.t0 = self._clock()
        self._tracker = PathTracker()
        self._update_path()
        self.query_one(HexView).show_packet(None)
        self.query_one(PacketLayers).show_message(self.text("packets.detail.none"))
        self._refresh_status()

    def action_follow(self) -> None:
        plist = self.query_one(PacketList)
        if plist.row_count:
            plist.move_cursor(row=plist.row_count - 1)

    def action_pane(self, pane: str) -> None:
        if pane in PANES:
            self._set_pane(pane)

    def action_live(self) -> None:
        if self.mode != "recorded" or not self._can_go_live:
            return
        self.query_one(PacketList).clear_packets()
        self._tracker = PathTracker()
        self.failed = {}
        self.bpf = self.bpf or DEFAULT_FILTER
        self.query_one("#pk-filter", Input).value = self.bpf
        self._go_live()

    def default_pcap_name(self) -> str:
        stamp = self.state.session_id or time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        name = f"vnetdoctor-{stamp}.pcap"
        return os.path.join(self._save_dir, name) if self._save_dir else name

    def action_save(self) -> None:
        self.app.push_screen(SaveDialog(self.text, self.default_pcap_name()), self._save_to)

    def _save_to(self, path: str | None) -> None:
        """A name that exists is never overwritten without asking (Cancel is the default)."""
        if not path:
            return
        full = os.path.abspath(os.path.expanduser(path))
        rows = list(self.query_one(PacketList).packets)
        if os.path.lexists(full) and not os.path.isdir(full):
            self.app.push_screen(
                OverwriteDialog(self.text, full),
                lambda replace: self._start_write(full, rows, replace=True) if replace else self._kept(full),
            )
            return
        self._start_write(full, rows, replace=False)

    def _kept(self, path: str) -> None:
        self.last_message = self.text("packets.save.not_saved", path=path)
        self._refresh_status()

    def _start_write(self, full: str, rows: list[PacketRow], *, replace: bool) -> None:
        self.run_worker(lambda: self._write(full, rows, replace), thread=True, group="save", exit_on_error=False)

    def _write(self, full: str, rows: list[PacketRow], replace: bool = False) -> None:
        """Worker: write the pcap (file I/O stays off the UI thread)."""
        try:
            if os.path.isdir(full):
                raise IsADirectoryError(21, "is a directory")
            write_file(full, pcap_bytes(rows), replace=replace)
            count = len(rows)
        except OSError as exc:
            self.post_message(PcapSaved(full, error=exc.strerror or str(exc)))
            return
        except ValueError as exc:  # PcapError: frames of several link types, damaged hex
            self.post_message(PcapSaved(full, error=str(exc)))
            return
        self.post_message(PcapSaved(full, count))

    @on(PcapSaved)
    def _on_saved(self, message: PcapSaved) -> None:
        if message.error:
            self.last_message = self.text("packets.save.failed", path=message.path, error=message.error)
        else:
            self.last_message = self.text("packets.save.done", path=message.path, count=message.count)
        self._refresh_status()

    # --- leaving -------------------------------------------------------------------------------------

    def on_unmount(self) -> None:
        """Stop the capture now; Textual cancels the workers, whose loops then end."""
        if self.feed is not None:
            self.feed.closed.set()
        self.workers.cancel_node(self)
