"""Where the Packets screen's packets come from: a live capture's feed or a session's recording.

Threads and the UI: the capture's reader thread belongs to ``probes.capture``; a
thread worker of the screen drains it every ~200 ms into a :class:`Feed` and posts
a :class:`PacketsPending` notice. Notices for one feed merge (``can_replace``), so a
flood costs the UI thread one batch per frame, never one message per packet. The
messages here are what workers post; they are small and never touch a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from textual.message import Message
from vnetdoctor.probes.capture import Capture
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import PacketKind

DRAIN_INTERVAL = 0.2  # seconds between drains of the capture: ~5 list updates a second
MAX_PACKETS = 20000  # the view keeps at most this many (the capture's own limit too)
# Rows listed per notice. DataTable measures every new cell when it next idles, so a
# flood is listed in slices, one per drain tick (~2500 rows/s), and keys get in between.
BATCH_ROWS = 500


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
    failed: tuple[CaptureFailure, ...]  # the points it could not open, and why
    bpf: str


def path_order(rows: Sequence[PacketRow], points: Sequence[tuple[Any, str]]) -> list[PacketRow]:
    """``rows`` by time; packets with the same time in the order they cross the path.

    One frame seen on br0 and vnet0 can carry the same timestamp. A request crosses
    the points in path order (host side first), a reply in the reverse order, so a tie
    is broken by the point's place on the path, reversed for replies; points not on
    the path come last. The sort is stable: the capture's own order decides the rest.
    """
    rank = {(str(v), iface): i for i, (v, iface) in enumerate(points)}
    far = len(rank)

    def key(r: PacketRow) -> tuple[float, int]:
        i = rank.get((r.vantage, r.iface), far)
        reply = r.kind in (PacketKind.ECHO_REPLY, PacketKind.IS_AT)
        return (r.time, (far - 1 - i if i < far else far) if reply else i)

    return sorted(rows, key=key)


def recorded_capture(observations: Iterable[Any], points: Sequence[tuple[Any, str]] = ()) -> Recorded:
    """Collect the PacketRows of every observation (the symptom step's trace carries them).

    A capture observation carries the points it could not open as CaptureFailure rows.
    """
    rows: list[PacketRow] = []
    failed: list[CaptureFailure] = []
    bpf = ""
    seen: set[tuple[float, str, str, str]] = set()
    for obs in observations:
        packets = [r for r in obs.rows if isinstance(r, PacketRow)]
        if not packets and not obs.probe.startswith("capture"):
            continue
        bpf = obs.param("filter", bpf) if hasattr(obs, "param") else bpf
        failed += (r for r in obs.rows if isinstance(r, CaptureFailure) and r not in failed)
        for r in packets:
            ident = (r.time, r.vantage, r.iface, r.data_hex)
            if ident not in seen:
                seen.add(ident)
                rows.append(r)
    return Recorded(tuple(path_order(rows, points)), tuple(failed), bpf)


def unopened(failures: Iterable[CaptureFailure]) -> dict[tuple[str, str], str]:
    """The points a capture could not open, by ``(vantage, iface)`` (``("", "")``: none at all)."""
    return {(f.vantage, f.iface): f.reason for f in failures}


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
    failed: tuple[CaptureFailure, ...]
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
    recorded: Recorded  # every walk's packets the session holds
    points: list[tuple[Vantage, str]]
    runs: list[Recorded] = field(default_factory=list)  # each walk's own (first, re-runs) when more than one
    trackers: list[Any] = field(default_factory=list)  # PathTrackers of ``recorded`` then of each run


@dataclass
class PathTallied(Message):
    """The path view's tallies of a big recording, made after its first rows were listed."""

    trackers: list[Any]


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

