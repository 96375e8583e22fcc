"""pcapng files for captured frames: one interface per vantage and interface, written with ``struct``.

Why pcapng is the default and classic pcap only an option: a probe packet seen on
br0, vnet0 and the guest's eth0 is the *same* packet three times. Classic pcap has
no interface field, so Wireshark shows three anonymous copies and the path is lost.
pcapng gives every capture point an Interface Description Block named like
``host:br0`` or ``guest:eth0`` (the names Wireshark shows in its "Interface"
column), nanosecond timestamps so the hop order survives, and a comment on every
Enhanced Packet Block naming the probe the frame belongs to — what retis and
Inspektor Gadget write too.

The writer streams: it never holds the file in memory, so exporting 100k frames
costs the frames, not a copy of them. The reader is small and strict and exists so
tests (and a future import) can check what the writer produced without scapy.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from .pcap import DEFAULT_SNAPLEN, PcapError

SHB_TYPE = 0x0A0D0D0A
IDB_TYPE = 0x00000001
EPB_TYPE = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_END = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9

_BLOCK_HEAD = struct.Struct("<II")  # type, total length
_U32 = struct.Struct("<I")
_SHB_BODY = struct.Struct("<IHHq")  # byte-order magic, major, minor, section length
_IDB_BODY = struct.Struct("<HHI")  # linktype, reserved, snaplen
_EPB_BODY = struct.Struct("<IIIII")  # interface id, ts high, ts low, captured, original
_OPT_HEAD = struct.Struct("<HH")


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


def _option(code: int, value: bytes) -> bytes:
    return _OPT_HEAD.pack(code, len(value)) + value + b"\0" * _pad(len(value))


def _options(items: Iterable[tuple[int, bytes]]) -> bytes:
    body = b"".join(_option(code, value) for code, value in items)
    return body + _OPT_HEAD.pack(OPT_END, 0) if body else b""


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return _BLOCK_HEAD.pack(block_type, total) + body + _U32.pack(total)


@dataclass(frozen=True)
class Interface:
    """One capture point of a pcapng file: its name as Wireshark shows it, and its link type."""

    name: str  # "host:br0", "guest:eth0"
    linktype: int = 1
    description: str = ""  # where it was captured, e.g. "netns:vnd-host"


@dataclass(frozen=True)
class NgFrame:
    """One Enhanced Packet Block as :func:`read_pcapng` returns it."""

    interface: Interface
    time_ns: int
    data: bytes
    orig_len: int
    comment: str


class PcapngWriter:
    """Stream frames into a pcapng section; interfaces are declared the first time they are used.

    pcapng allows an Interface Description Block anywhere before the first packet
    that refers to it, so the writer needs no first pass over the frames.
    """

    def __init__(self, out: BinaryIO, *, application: str = "vnetdoctor") -> None:
        self._out = out
        self._ids: dict[Interface, int] = {}
        self.count = 0
        shb = _SHB_BODY.pack(BYTE_ORDER_MAGIC, 1, 0, -1)
        out.write(_block(SHB_TYPE, shb + _options([(SHB_USERAPPL, application.encode())])))

    def _interface_id(self, iface: Interface) -> int:
        known = self._ids.get(iface)
        if known is not None:
            return known
        opts = [(IF_NAME, iface.name.encode()), (IF_TSRESOL, b"\x09")]
        if iface.description:
            opts.append((IF_DESCRIPTION, iface.description.encode()))
        body = _IDB_BODY.pack(iface.linktype, 0, DEFAULT_SNAPLEN) + _options(opts)
        self._out.write(_block(IDB_TYPE, body))
        self._ids[iface] = len(self._ids)
        return self._ids[iface]

    def write(self, iface: Interface, time_ns: int, data: bytes, orig_len: int, comment: str = "") -> None:
        """One packet on ``iface`` at ``time_ns`` (nanoseconds since the epoch)."""
        ifid = self._interface_id(iface)
        captured = len(data)
        body = _EPB_BODY.pack(
            ifid, (time_ns >> 32) & 0xFFFFFFFF, time_ns & 0xFFFFFFFF, captured, max(orig_len, captured)
        )
        opts = _options([(OPT_COMMENT, comment.encode())]) if comment else b""
        total = 12 + len(body) + captured + _pad(captured) + len(opts)
        write = self._out.write
        write(_BLOCK_HEAD.pack(EPB_TYPE, total))
        write(body)
        write(data)
        write(b"\0" * _pad(captured))
        write(opts)
        write(_U32.pack(total))
        self.count += 1


# One record as the store streams it: (time, vantage, iface, linktype, hex frame, orig length, probe tag).
Record = tuple[float, str, str, int, str, int, str]
_EPB_HEAD = struct.Struct("<IIIIIII")  # type, total length, interface id, ts high, ts low, captured, original
_PADS = (b"", b"\0", b"\0\0", b"\0\0\0")
_FLUSH_EVERY = 2048


def side_namer(sides: dict[str, str]) -> Callable[[str, str, int], Interface]:
    """Name a capture point: ``host:br0`` when its vantage is the host's, and so on.

    ``sides`` maps a vantage string (``netns:vnd-host``) to the operator's word for it
    (``host``, ``guest``); a vantage with no side keeps its own name so two unknown
    places never merge into one interface.
    """

    def name(vantage: str, iface: str, linktype: int) -> Interface:
        side = sides.get(vantage) or vantage or "?"
        return Interface(f"{side}:{iface}", int(linktype or 1), vantage)

    return name


def probe_comment(tag: str) -> str:
    """The EPB comment: which probe packet this frame is (background traffic has none)."""
    return f"vnetdoctor probe {tag}" if tag else ""


def row_record(row: Any) -> Record:
    """A PacketRow as the writer's record."""
    return (float(row.time), str(row.vantage or ""), str(row.iface or ""), int(row.linktype or 1),
            str(row.data_hex or ""), int(row.length or 0), str(row.tag or ""))


def write_records(
    out: BinaryIO,
    records: Iterable[Record],
    interface_of: Callable[[str, str, int], Interface],
    frame_of: Callable[[str, int], bytes] = lambda hexdata, _linktype: bytes.fromhex(hexdata),
    comment_of: Callable[[str], str] = probe_comment,
) -> int:
    """Write records as one pcapng section; returns the number of packets written.

    The hot loop of every export: packed with one header struct per packet and
    written in batches, because at 100k frames every microsecond per frame is a
    tenth of a second. ``frame_of`` turns the stored hex into bytes (redaction
    rewrites it there); ``interface_of`` is asked once per capture point.
    """
    writer = PcapngWriter(out)
    ids: dict[tuple[str, str, int], int] = {}
    batch: list[bytes] = []
    count = 0
    for time_s, vantage, iface, linktype, hexdata, length, tag in records:
        key = (vantage, iface, linktype)
        ifid = ids.get(key)
        if ifid is None:
            out.write(b"".join(batch))
            batch.clear()
            ifid = ids[key] = writer._interface_id(interface_of(vantage, iface, linktype))
        try:
            data = frame_of(hexdata, linktype)
        except ValueError:
            raise PcapError(f"captured frame at {time_s} has damaged hex data") from None
        captured = len(data)
        comment = comment_of(tag).encode() if tag else b""
        opts = (_OPT_HEAD.pack(OPT_COMMENT, len(comment)) + comment + _PADS[_pad(len(comment))]
                + b"\0\0\0\0") if comment else b""
        ns = round(time_s * 1_000_000_000)
        pad = _pad(captured)
        total = 32 + captured + pad + len(opts)
        batch.append(_EPB_HEAD.pack(EPB_TYPE, total, ifid, (ns >> 32) & 0xFFFFFFFF, ns & 0xFFFFFFFF,
                                    captured, max(length, captured)))
        batch.append(data)
        batch.append(_PADS[pad])
        batch.append(opts)
        batch.append(_U32.pack(total))
        count += 1
        if len(batch) >= _FLUSH_EVERY:
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))
    writer.count = count
    return count


def write_rows(out: BinaryIO, rows: Iterable[Any], interface_of: Callable[[str, str, int], Interface]) -> int:
    """Write PacketRows as pcapng (the TUI's save and small exports)."""
    return write_records(out, (row_record(r) for r in rows), interface_of)


def read_pcapng(data: bytes) -> list[NgFrame]:
    """Parse a little-endian pcapng section as :class:`PcapngWriter` writes it (tests, imports)."""
    if len(data) < 28 or _U32.unpack_from(data, 0)[0] != SHB_TYPE:
        raise PcapError("not a pcapng file: no section header block")
    if _U32.unpack_from(data, 8)[0] != BYTE_ORDER_MAGIC:
        raise PcapError("not a little-endian pcapng section")
    interfaces: list[Interface] = []
    frames: list[NgFrame] = []
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise PcapError("truncated pcapng block header")
        btype, total = _BLOCK_HEAD.unpack_from(data, pos)
        if total < 12 or pos + total > len(data) or _U32.unpack_from(data, pos + total - 4)[0] != total:
            raise PcapError(f"damaged pcapng block at byte {pos}")
        body = data[pos + 8 : pos + total - 4]
        if btype == IDB_TYPE:
            linktype, _r, _snap = _IDB_BODY.unpack_from(body, 0)
            opts = _read_options(body[_IDB_BODY.size :])
            interfaces.append(Interface(
                opts.get(IF_NAME, b"").decode(), linktype, opts.get(IF_DESCRIPTION, b"").decode()
            ))
        elif btype == EPB_TYPE:
            ifid, hi, lo, cap, orig = _EPB_BODY.unpack_from(body, 0)
            start = _EPB_BODY.size
            payload = body[start : start + cap]
            opts = _read_options(body[start + cap + _pad(cap) :])
            if ifid >= len(interfaces):
                raise PcapError(f"packet refers to undeclared interface {ifid}")
            frames.append(NgFrame(
                interfaces[ifid], (hi << 32) | lo, payload, orig, opts.get(OPT_COMMENT, b"").decode()
            ))
        pos += total
    return frames


def _read_options(raw: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(raw):
        code, length = _OPT_HEAD.unpack_from(raw, pos)
        if code == OPT_END:
            break
        found.setdefault(code, raw[pos + 4 : pos + 4 + length])
        pos += 4 + length + _pad(length)
    return found
