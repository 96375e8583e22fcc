"""The Packets screen: live capture on the path's interfaces, or the session's recorded packets.

What the operator would otherwise do with one ``tcpdump -i IFACE 'icmp or arp'``
per interface and per namespace, side by side: a packet list, the selected
packet's layers and bytes, and the *path view* that lines the probe packets up
against the interfaces of the path — the place where "the echo request reached
vnet0 but never the guest's eth0" becomes visible.

This module is the view: the layout, the keys and the handlers of the messages
its workers post. The screen is put together from parts (issue 9): the detail panes
and the selected packet in them (:mod:`.packets_panes`), saving a pcap
(:class:`~.packets_save.PcapSaving`), and where the packets come from (a recording,
or a live capture drained by a worker) in :class:`~.packets_capture.CaptureScreen`,
its base; the feed and the messages workers post are in :mod:`.packets_source`.
``BINDINGS`` and ``@on`` handlers stay here: Textual reads them from the screen, not
from a plain part. No widget is touched from a thread.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Label, Static

from vnetdoctor.probes.capture import DEFAULT_FILTER

from ..glyphs import glyph
from ..i18n import translate_bindings
from ..path_trace import PathTracker
from ..widgets.packet_detail import HexView, PacketLayers
from ..widgets.packet_list import TIGHT, WIDE, PacketList
from ..widgets.path_view import PathView
from ..widgets.title_bar import TitleBar, request_line
from .commands import ScreenCommands
from .detail import packet_detail
from .packets_capture import CaptureScreen
from .packets_panes import PANE_KEYS, WIDE_DETAIL, PacketPanes
from .packets_save import PcapSaving
from .packets_source import BATCH_ROWS, LayersDecoded, PcapSaved

__all__ = ["PacketsScreen"]


class PacketsScreen(PacketPanes, PcapSaving, CaptureScreen):
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
        Binding("r", "run", "packets.key.run", id="packets.run", show=False),  # the title names it
        Binding("end", "follow", "packets.key.follow", id="packets.follow", show=False),
    ]

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
        translate_bindings(self, self.text.lang)
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
        wide_list, tight = width >= WIDE, width < TIGHT
        if not plist.columns or (plist.wide, plist.tight) != (wide_list, tight):
            plist.fit_width = width
            plist.setup(self._headers(), wide_list, tight)
        else:
            plist.refit(width)
        self._title_panes()

    def _headers(self) -> dict[str, str]:
        keys = ("no", "time", "iface", "vantage", "dir", "flow", "proto", "len", "info")
        return {k: self.text(f"packets.col.{k}").replace("→", glyph("right")) for k in keys}

    # --- the selected packet -------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#pk-list")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()
        self.more_recorded()  # the last listed row of a long recording: list the next page

    @on(DataTable.RowSelected, "#pk-list")
    def _on_select(self, event: DataTable.RowSelected) -> None:
        """Enter: the packet in full (the list cuts its summary), and the layers pane behind it."""
        self._show_selected()
        if self.has_class("-narrow"):
            self._set_pane("layers")
        plist = self.query_one(PacketList)
        row = plist.selected()
        if row is not None:
            side = self._side_names().get(row.vantage, "")
            t0 = plist.t0 if plist.t0 is not None else row.time
            self.app.push_screen(packet_detail(row, plist.cursor_row + 1, t0, side, self.text))

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
        if self.mode == "recorded":
            self.show_only(expr)
            return
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
        if action == "run":  # pick the run: only a recording of more than one walk has a choice
            return self.mode == "recorded" and len(self.runs) > 1
        if action == "edit_filter":
            return self.mode in ("live", "starting", "failed", "recorded")
        # All panes are visible on a wide terminal: no pane keys there.
        return not (action == "pane" and self.has_class("-wide"))

    def action_back(self) -> None:
        flt = self.query_one("#pk-filter", Input)
        if self.mode == "recorded" and (flt.has_focus or self.display_filter is not None):
            self.show_only("")  # esc clears the display filter first; the next esc leaves
            self.query_one(PacketList).focus()
            return
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
        self.not_listed, self.unlisted = 0, []
        if self.mode == "live":
            plist.t0 = self._clock()
        self._tracker = PathTracker()
        self._update_path()
        self.query_one(HexView).show_packet(None)
        self.query_one(PacketLayers).show_message(self.text("packets.detail.none"))
        self._refresh_notes()
        self._refresh_status()

    def action_follow(self) -> None:
        plist = self.query_one(PacketList)
        if plist.row_count:
            plist.move_cursor(row=plist.row_count - 1)

    def action_run(self) -> None:
        self.pick_run()

    def action_live(self) -> None:
        if self.mode != "recorded" or not self._can_go_live:
            return
        self.query_one(PacketList).clear_packets()
        self.unlisted = []
        self._tracker = PathTracker()
        self.failed = {}
        self.bpf = self.bpf or DEFAULT_FILTER
        self.query_one("#pk-filter", Input).value = self.bpf
        self._go_live()

    # --- a pcap saved (the saving itself is PcapSaving's) -----------------------------------------

    @on(PcapSaved)
    def _on_saved(self, message: PcapSaved) -> None:
        if message.error:
            self.last_message = self.text("packets.save.failed", path=message.path, error=message.error)
        else:
            self.last_message = self.text("packets.save.done", path=message.path, count=message.count)
        self._refresh_status()
