"""What the Packets screen says about itself: the status line, the notes, the filter's error.

The title's status line says where the listed packets come from and how many there
are (recorded, live, paused, blocked, no path), with the last outcome of a save or a
failed worker after it; the notes under the filter say which capture points could
not be opened and, while a live list is still empty, where the capture listens (an
empty list alone looks like a hung capture); the filter's error line shows what
libpcap said about a rejected filter. Side names ("host"/"guest" in the operator's
language, or as the display filter's keywords) are worked out here too.

Split out of :mod:`.packets_capture` (issue 9). A part of
:class:`~.packets_capture.CaptureScreen`: a plain class the screen inherits from, so
it holds no ``BINDINGS`` and no ``@on`` handlers (Textual reads those from the
screen only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from ..widgets.packet_list import PacketList
from ..widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from textual.screen import Screen

    from vnetdoctor.knowledge.text import Translator
    from vnetdoctor.probes.rows import PacketRow
    from vnetdoctor.probes.vantage import Vantage

    from ..state import SessionState
    from ..widgets.packet_filter import DisplayFilter
    from .packets_source import Feed, Recorded

    _Base = Screen[None]
else:
    _Base = object


class PacketsStatus(_Base):
    """The status line, the notes and the filter's error of the Packets screen."""

    # The screen's state (set by CaptureScreen.__init__), declared for the reader and the type checker.
    state: SessionState
    text: Translator
    mode: str  # starting | live | recorded | blocked | nopath | failed
    paused: bool
    bpf: str
    feed: Feed | None
    points: list[tuple[Vantage, str]]
    failed: dict[tuple[str, str], str]  # (vantage, iface) not opened -> why
    block_reason: str
    last_message: str
    filter_error: str
    not_listed: int
    recorded_rows: list[PacketRow]
    unlisted: list[PacketRow]
    runs: list[Recorded]
    display_filter: DisplayFilter | None
    _can_go_live: bool
    _max_packets: int

    if TYPE_CHECKING:  # the recorded view's (packets_recorded.py), called from here
        def run_label(self) -> str: ...

    def _refresh_status(self) -> None:
        plist = self.query_one(PacketList)
        n = len(plist.packets)
        t = self.text
        if self.mode == "recorded":
            line = t("packets.status.recorded", count=len(self.recorded_rows))
            if self.runs:
                line += " · " + self.run_label()
            if self.display_filter is not None:
                line += " · " + t("packets.status.shown", shown=n + len(self.unlisted), count=len(self.recorded_rows),
                                  filter=self.display_filter.text)
            if self.unlisted:  # paged: the rest is listed as the cursor reaches the end
                line += " · " + t("packets.status.paged", listed=n)
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
        else:  # where no capture may start, the packets come from the record (its frames may still be read)
            line = t("packets.status.starting" if self._can_go_live else "packets.status.reading")
        if self.not_listed:
            line = f"{line} · {t('packets.status.full', count=self.not_listed, limit=self._max_packets)}"
        if self.last_message:
            line = f"{line} · {self.last_message}"
        self.query_one(TitleBar).set_left(Text(line, style="bold"))

    def _side_names(self, localized: bool = True) -> dict[str, str]:
        """Vantage → "host"/"guest", in the operator's language (or as the filter's keywords)."""
        req = self.state.request
        out: dict[str, str] = {}
        if req is not None:
            if req.guest is not None:
                out[str(req.guest)] = self.text("views.side.guest") if localized else "guest"
            out[str(req.host)] = self.text("views.side.host") if localized else "host"
        return out

    def _refresh_notes(self) -> None:
        notes = self.query_one("#pk-notes", Static)
        lines = []
        if self.mode == "blocked":
            lines.append(self.text("packets.note.blocked", reason=self.block_reason))
        if self.failed:
            items = "; ".join(f"{i}@{v}: {why}" if i else why for (v, i), why in self.failed.items())
            lines.append(self.text("packets.note.skipped", items=items))
        if self.mode == "live" and not self.query_one(PacketList).packets:
            # An empty list alone looks like a hung capture: say where it listens.
            sides = self._side_names()
            listening = [(v, i) for v, i in self.points if (str(v), i) not in self.failed]
            points = ", ".join(f"{i} ({sides.get(str(v), str(v))})" for v, i in listening)
            lines.append(self.text("packets.note.waiting", points=points))
        notes.update("\n".join(lines))
        notes.set_class(bool(lines), "-shown")

    def _set_filter_error(self, error: str) -> None:
        self.filter_error = error
        box = self.query_one("#pk-filter-error", Static)
        box.update(error)
        box.set_class(bool(error), "-shown")
