"""The Packets screen's detail panes: layers, hex and path, and the selected packet in them.

Under the packet list sit three panes. From :data:`WIDE_DETAIL` columns on they
stand side by side; below it one shows at a time, picked with ``l``/``x``/``p``, and
each pane's title names all three with their keys so the hidden ones can be found.
The selected packet's hex is shown at once; its layers are decoded by scapy in a
worker (its import alone takes half a second), and the screen's handler for
:class:`~.packets_source.LayersDecoded` shows them if the cursor is still there.

Split out of :mod:`.packets` (issue 9). A part of
:class:`~.packets.PacketsScreen`: a plain class the screen inherits from, so it holds
no ``BINDINGS`` and no ``@on`` handlers (Textual reads those from the screen only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.worker import get_current_worker

from vnetdoctor.probes.rows import PacketRow

from ..widgets.packet_detail import HexView, PacketLayers
from ..widgets.packet_list import PacketList
from .packets_source import LayersDecoded

if TYPE_CHECKING:
    from .packets_capture import CaptureScreen

    _Base = CaptureScreen
else:
    _Base = object

WIDE_DETAIL = 150  # from this width layers, hex and path are shown side by side
PANES = ("layers", "hex", "path")
PANE_KEYS = Binding.Group("packets.key.panes", compact=True)  # "lxp" in the footer
PANE_KEY = {"layers": "l", "hex": "x", "path": "p"}  # the key that shows each pane


class PacketPanes(_Base):
    """Which detail pane shows, their titles, and the selected packet's layers and hex."""

    def _title_panes(self) -> None:
        narrow = self.has_class("-narrow")
        for pane in PANES:
            widget = self.query_one(f"#pk-{pane}")
            if narrow:
                parts = []
                for other in PANES:
                    label = f"{self.text('packets.pane.' + other)} ({PANE_KEY[other]})"
                    parts.append(f"[reverse] {label} [/]" if other == pane else f" {label} ")
                widget.border_title = "".join(parts)
            else:
                widget.border_title = f"{self.text('packets.pane.' + pane)} ({PANE_KEY[pane]})"

    def _set_pane(self, pane: str) -> None:
        self.pane = pane
        for other in PANES:
            self.set_class(other == pane, f"-pane-{other}")
        self._title_panes()

    def action_pane(self, pane: str) -> None:
        if pane in PANES:
            self._set_pane(pane)

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
