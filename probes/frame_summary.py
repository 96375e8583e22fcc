"""The lean frame decoder: what a captured frame is, in fields and in one display line.

Every captured frame passes through here (thousands a second on a busy bridge), so
this reads the few header bytes it needs with ``struct`` instead of building a scapy
packet (scapy decodes a frame only when the detail view asks, see
:func:`.capture.decode_layers`).

It gives the fields rules and views decide by (protocol, addresses, ports, what kind
of packet) *and* the summary line people read, from the same bytes in the same
place, so the two cannot disagree and nothing has to read the line back.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from .probe_tag import ProbeTag
from .rows import PacketRow
from .vocabulary import Direction, PacketKind


@dataclass(frozen=True)
class FrameFacts:
    """What :func:`decode_frame` read from one frame (the :class:`.rows.PacketRow` fields it fills)."""

    summary: str  # the display line, without the direction
    tag: str = ""  # the probe tag's text (:class:`.probe_tag.ProbeTag`), "" for background traffic
    proto: str = ""
    src: str = ""
    dst: str = ""
    sport: int = 0
    dport: int = 0
    kind: PacketKind = PacketKind.OTHER
    info: str = ""
    info_more: str = ""


def _ip(b: bytes) -> str:
    return socket.inet_ntoa(b)


def decode_frame(frame: bytes) -> FrameFacts:
    """The fields and the one-line summary of an Ethernet frame (VLAN-tagged or not)."""
    if len(frame) < 14:
        return FrameFacts("short frame", info="short frame")
    etype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    if etype == 0x8100 and len(frame) >= 18:
        etype = struct.unpack("!H", frame[16:18])[0]
        off = 18
    if etype == 0x0806 and len(frame) >= off + 28:
        return _arp(frame, off)
    if etype != 0x0800 or len(frame) < off + 20:
        text = f"ethertype 0x{etype:04x} {len(frame)} bytes"
        return FrameFacts(text, info=text)
    return _ipv4(frame, off)


def _arp(frame: bytes, off: int) -> FrameFacts:
    op = struct.unpack("!H", frame[off + 6 : off + 8])[0]
    sha = frame[off + 8 : off + 14].hex(":")
    spa, tpa = _ip(frame[off + 14 : off + 18]), _ip(frame[off + 24 : off + 28])
    if op == 1:
        return FrameFacts(f"ARP who-has {tpa} tell {spa} ({sha})", str(ProbeTag("arp", (tpa,))), "ARP", spa, tpa,
                          kind=PacketKind.WHO_HAS, info=f"who-has {tpa}", info_more=f" ({sha})")
    return FrameFacts(f"ARP {spa} is-at {sha}", str(ProbeTag("arp", (spa,))), "ARP", spa,
                      kind=PacketKind.IS_AT, info=f"is-at {sha}")


def _ipv4(frame: bytes, off: int) -> FrameFacts:
    ihl = (frame[off] & 0x0F) * 4
    proto = frame[off + 9]
    src, dst = _ip(frame[off + 12 : off + 16]), _ip(frame[off + 16 : off + 20])
    df = " DF" if struct.unpack("!H", frame[off + 6 : off + 8])[0] & 0x4000 else ""
    total = struct.unpack("!H", frame[off + 2 : off + 4])[0]
    l4 = off + ihl
    if proto == 1 and len(frame) >= l4 + 8:
        itype, code = frame[l4], frame[l4 + 1]
        ident, seq = struct.unpack("!HH", frame[l4 + 4 : l4 + 8])
        if itype in (0, 8):
            kind = PacketKind.ECHO_REQUEST if itype == 8 else PacketKind.ECHO_REPLY
            info, more = f"{kind} id={ident} seq={seq}", f" len={total}{df}"
            return FrameFacts(f"ICMP {src} > {dst} {info}{more}", str(ProbeTag.icmp(ident, seq)), "ICMP", src, dst,
                              kind=kind, info=info, info_more=more)
        info, more = f"type={itype} code={code}", f" len={total}"
        return FrameFacts(f"ICMP {src} > {dst} {info}{more}", "", "ICMP", src, dst, info=info, info_more=more)
    if proto == 6 and len(frame) >= l4 + 14:
        sport, dport = struct.unpack("!HH", frame[l4 : l4 + 4])
        flags = frame[l4 + 13]
        names = "".join(n for bit, n in ((2, "S"), (16, "."), (4, "R"), (1, "F"), (8, "P")) if flags & bit)
        return FrameFacts(f"TCP {src}:{sport} > {dst}:{dport} [{names}]", str(ProbeTag("tcp", (str(sport), str(dport)))),
                          "TCP", src, dst, sport, dport, info=f"[{names}]")
    if proto == 17 and len(frame) >= l4 + 8:
        sport, dport = struct.unpack("!HH", frame[l4 : l4 + 4])
        return FrameFacts(f"UDP {src}:{sport} > {dst}:{dport}", str(ProbeTag("udp", (str(dport),))),
                          "UDP", src, dst, sport, dport)
    return FrameFacts(f"IP {src} > {dst} proto={proto}", "", "IP", src, dst, info=f"proto={proto}")


def summarize(frame: bytes) -> tuple[str, str]:
    """A one-line summary of an Ethernet frame and its probe tag (:class:`.probe_tag.ProbeTag`'s text)."""
    facts = decode_frame(frame)
    return facts.summary, facts.tag


def packet_row(time: float, vantage: str, iface: str, frame: bytes,
               direction: Direction = Direction.UNKNOWN) -> PacketRow:
    """A captured frame as its row: the decoded fields filled, the direction in front of the summary.

    The capture's one way of making a row (tests and benchmarks that stand in for a
    capture use it too, so their rows have the shape a real capture's have).
    """
    facts = decode_frame(frame)
    prefix = {Direction.OUT: "out ", Direction.IN: "in  "}.get(direction, "")
    return PacketRow(
        time=time, vantage=vantage, iface=iface, length=len(frame), summary=prefix + facts.summary,
        data_hex=frame.hex(), tag=facts.tag, direction=direction, proto=facts.proto, src=facts.src,
        dst=facts.dst, sport=facts.sport, dport=facts.dport, kind=facts.kind, info=facts.info,
        info_more=facts.info_more,
    )
