"""The selected packet: its decoded layers as a tree, and its bytes as a hex dump.

Decoding goes through scapy (``probes.capture.decode_layers``), which is slow to
import and not free per packet, so the screen runs it in a worker and hands the
result to :meth:`PacketLayers.show_layers`; the hex dump needs no decoding and is
drawn at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from vnetdoctor.probes.capture import hexdump
from vnetdoctor.probes.rows import PacketRow

from .kernel_loader import KernelMarksLoaded, load_marks
from .kernel_marks import KernelMarks

Layers = Sequence[tuple[str, Sequence[tuple[str, str]]]]
TextFn = Callable[..., str]


def layer_title(name: str, fields: Sequence[tuple[str, str]]) -> str:
    """``IP 198.18.0.1 > 198.18.0.11``: a layer's headline from its most telling fields."""
    values = dict(fields)
    pairs = (("src", "dst"), ("psrc", "pdst"), ("sport", "dport"))
    for a, b in pairs:
        if a in values and b in values:
            return f"{name}  {values[a]} > {values[b]}"
    if "type" in values:
        return f"{name}  type={values['type']}"
    return name


class PacketLayers(Tree[str]):
    """Layers as tree branches (all open), fields as ``name = value`` leaves."""

    DEFAULT_CSS = """
    PacketLayers {
        height: 1fr;
        padding: 0;
    }
    """

    def __init__(self, text: TextFn, *, id: str | None = None) -> None:
        super().__init__(text("packets.detail.none"), id=id)
        self._text = text
        self.show_root = False
        self.guide_depth = 2
        self.shown_key: str | None = None
        self.kernel = KernelMarks()  # the kernel's word per ping flow: a branch under its packets

    def on_mount(self) -> None:
        load_marks(self)

    def on_kernel_marks_loaded(self, message: KernelMarksLoaded) -> None:
        self.kernel = message.marks

    def show_message(self, message: str) -> None:
        self.clear()
        self.root.add_leaf(Text(message))
        self.shown_key = None

    def show_layers(self, key: str, layers: Layers) -> None:
        """Draw a decoded packet; ``key`` identifies it so a stale decode can be ignored."""
        self.clear()
        for name, fields in [*layers, *self.kernel.for_layers(layers, self._text)]:
            branch = self.root.add(Text(layer_title(name, fields), style="bold"), expand=True)
            for fname, value in fields:
                branch.add_leaf(Text(f"{fname} = {value}"))
        self.root.expand()
        self.shown_key = key


class HexView(VerticalScroll):
    """``offset  hex  ascii`` lines of the frame (16 bytes a line: 71 columns)."""

    DEFAULT_CSS = """
    HexView {
        height: 1fr;
    }
    HexView > Static {
        width: auto;
    }
    """

    def __init__(self, text: TextFn, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text
        self._static = Static(Text(text("packets.detail.none")))

    def compose(self):  # type: ignore[override]
        yield self._static

    def show_packet(self, row: PacketRow | None) -> None:
        if row is None:
            self._static.update(Text(self._text("packets.detail.none")))
            return
        try:
            data = bytes.fromhex(row.data_hex)
        except ValueError:
            self._static.update(Text(self._text("packets.detail.bad_hex")))
            return
        self._static.update(Text("\n".join(hexdump(data))))
        self.scroll_home(animate=False)
