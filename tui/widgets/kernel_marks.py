"""The kernel's word on the Packets screen: where it ended each probe packet, and why.

The walk's ``kernel.drops`` observation says, per ping, how the host kernel ended its
packets (dropped in ``nft_do_chain`` with NETFILTER_DROP after the guest's eth0, or
consumed in ``icmp_rcv``). Its rows carry the ping's ICMP identifier, which is what
the path view's flows (``icmp:ID``) and the captured packets' tags (``icmp:ID:SEQ``)
are keyed by: that is the whole join. The path view draws a *kernel* column after the
last hop and one line per flow; the packet detail gets a *kernel* branch with the
drop event. Pure data here (no widget): the two widgets call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.knowledge.checks_kernel import device_word
from vnetdoctor.probes.probe_tag import ProbeTag
from vnetdoctor.probes.kernel_drops_parse import DROP, GUEST, HOST, OTHER, KernelDevice, KernelDropRow, packet_verdicts
from vnetdoctor.probes.row_types import from_json

from ..glyphs import glyph

TextFn = Callable[..., str]


@dataclass(frozen=True)
class KernelMarks:
    """The kernel's verdict per (flow ``icmp:ID``, ``req``/``rep``), empty when it did not watch."""

    by_flow: dict[tuple[str, str], KernelDropRow] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_flow)

    def cells(self, flow: str, kind: str) -> list[str]:
        """The path view's kernel cell for a row: ``✗ NETFILTER_DROP`` / ``✓ icmp_rcv`` / ``""``."""
        if not self.by_flow:
            return []
        found = self.by_flow.get((flow, kind))
        if found is None:
            return [""]
        # Marks from the glyph set in use: ✗/✓, or [X]/[ok] on the Linux console and with --ascii.
        if found.verdict == DROP:
            return [f"{glyph('kernel_drop')} {found.reason}"]
        return [f"{glyph('kernel_end')} {found.function}"]

    def lines(self, flows: Iterable[str], text: TextFn) -> list[str]:
        """One line per drop in these flows: what, where and why, in the operator's language."""
        out = []
        for flow in flows:
            for kind in ("req", "rep"):
                found = self.by_flow.get((flow, kind))
                if found is not None and found.verdict == DROP:
                    out.append(text("pathview.kernel_line", label=flow.replace(":", " "),
                                     what=text(f"pathview.{kind}"), function=found.function,
                                     reason=found.reason, dev=found.last_dev, side=_side(found.side, text)))
        return out

    def layer(self, tag: str, text: TextFn) -> list[tuple[str, list[tuple[str, str]]]]:
        """The packet detail's *kernel* branch for a packet tagged ``icmp:ID:SEQ`` ([] when none)."""
        probe = ProbeTag.read(tag)
        if probe is None or probe.kind != "icmp":
            return []
        return self.branches(probe.flow, ("req", "rep"), text)

    def branches(self, flow: str, kinds: Sequence[str], text: TextFn) -> list[tuple[str, list[tuple[str, str]]]]:
        out = []
        for kind in kinds:
            found = self.by_flow.get((flow, kind))
            if found is None:
                continue
            out.append((text("pathview.kernel_layer", what=text(f"pathview.{kind}")), [
                ("verdict", found.verdict), ("reason", found.reason or "-"), ("location", found.location),
                ("last_dev", f"{found.last_dev} ({_side(found.side, text)}, {found.direction or '?'})"),
                ("devices", ", ".join(_device(d, text) for d in found.devices) or "-"), ("ip_length", str(found.length)),
                ("at_ms", f"{found.at_ms:.3f}"),
            ]))
        return out

    def for_layers(self, layers: Sequence[tuple[str, Sequence[tuple[str, str]]]],
                   text: TextFn) -> list[tuple[str, list[tuple[str, str]]]]:
        """The *kernel* branch for a decoded packet: its ICMP id names the flow, its type the kind."""
        for name, fields in layers:
            if name != "ICMP":
                continue
            values = dict(fields)
            try:
                ident = int(values.get("id", ""), 0)
            except ValueError:
                return []
            kind = "rep" if values.get("type") in ("echo-reply", "0") else "req"
            return self.branches(f"icmp:{ident}", (kind,), text)
        return []


def _side(side: str, text: TextFn) -> str:
    """Whose a device is, in the operator's language (宿主机 / 虚拟机 / 路径之外)."""
    return text(f"views.side.{side}") if side in (HOST, GUEST, OTHER) else side or "?"


def _device(device: Any, text: TextFn) -> str:
    """A device the packet crossed in the operator's language (宿主机 br0), never ``"host br0"``."""
    return device_word(text, device) if isinstance(device, KernelDevice) else str(device)


def _as_row(item: Any) -> KernelDropRow | None:
    """A row as recorded: the type, or its fields when the record was read before the type was
    imported (a replay that opens the Packets screen first)."""
    if isinstance(item, KernelDropRow):
        return item
    if isinstance(item, dict):
        try:
            return from_json(KernelDropRow, item)
        except TypeError:
            return None
    return None


def kernel_marks(observations: Sequence[Any]) -> KernelMarks:
    """The marks from a walk's observations (its ``kernel.drops`` rows), agreed 2 of 3 per packet."""
    rows = [r for o in observations if getattr(o, "probe", "") == "kernel.drops" and getattr(o, "ok", False)
            for r in map(_as_row, o.rows) if r is not None and r.ident]
    by_flow: dict[tuple[str, str], KernelDropRow] = {}
    for ident in sorted({r.ident for r in rows}):
        for (_, kind), found in packet_verdicts([r for r in rows if r.ident == ident]).items():
            by_flow[(f"icmp:{ident}", "rep" if kind == "reply" else "req")] = found
    return KernelMarks(by_flow)
