"""Classic pcap files for captured frames, written with ``struct`` (no scapy needed).

Why classic pcap and not pcapng: every tool reads it (tcpdump, Wireshark, scapy,
tshark on an old jump host), and a session's frames come from one kind of link.
Its one limit is one link type per file, so frames of different link types are
refused with a clear message instead of being written with a wrong header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

MAGIC_USEC = 0xA1B2C3D4
VERSION = (2, 4)
DEFAULT_SNAPLEN = 262144
_GLOBAL = struct.Struct("<IHHiIII")  # magic, major, minor, thiszone, sigfigs, snaplen, linktype
_RECORD = struct.Struct("<IIII")  # ts_sec, ts_usec, incl_len, orig_len

LINKTYPE_NAMES = {
    1: "Ethernet",
    101: "raw IP",
    113: "Linux cooked (SLL)",
    276: "Linux cooked v2 (SLL2)",
}


class PcapError(ValueError):
    """The frames cannot be written as one classic pcap file; the message is one line."""


@dataclass(frozen=True)
class Frame:
    """One record of a pcap file: what :func:`read_pcap` returns."""

    time: float
    data: bytes
    orig_len: int


def frame_bytes(row: Any) -> bytes:
    """The frame of a PacketRow (``data_hex``) as bytes; bad hex is a PcapError."""
    try:
        return bytes.fromhex(row.data_hex)
    except (ValueError, TypeError):
        raise PcapError(f"captured frame at {row.time} has damaged hex data") from None


def linktype_of(rows: Sequence[Any]) -> int:
    """The single link type of ``rows``; several kinds cannot share a classic pcap."""
    kinds: dict[int, int] = {}
    for r in rows:
        kinds[int(r.linktype)] = kinds.get(int(r.linktype), 0) + 1
    if not kinds:
        return 1
    if len(kinds) > 1:
        listed = ", ".join(
            f"{n} × {LINKTYPE_NAMES.get(k, f'linktype {k}')}" for k, n in sorted(kinds.items())
        )
        raise PcapError(
            f"the frames use several link types ({listed}); a classic pcap holds one: "
            "use --format json for the rest"
        )
    return next(iter(kinds))


def write_pcap(out: BinaryIO, frames: Iterable[tuple[float, bytes, int]], linktype: int) -> int:
    """Write ``(time, data, orig_len)`` records after a global header; returns the record count.

    Times are microseconds (the classic magic); ``orig_len`` below the captured
    length would make readers complain, so it is raised to the captured length.
    """
    items = list(frames)
    snaplen = max([DEFAULT_SNAPLEN, *(len(d) for _, d, _ in items)])
    out.write(_GLOBAL.pack(MAGIC_USEC, VERSION[0], VERSION[1], 0, 0, snaplen, linktype))
    for t, data, orig_len in items:
        usec_total = round(t * 1_000_000)
        sec, usec = divmod(usec_total, 1_000_000)
        out.write(_RECORD.pack(sec, usec, len(data), max(int(orig_len or 0), len(data))))
        out.write(data)
    return len(items)


def read_pcap(data: bytes) -> tuple[int, list[Frame]]:
    """Parse a classic pcap (either byte order, usec or nsec): ``(linktype, frames)``.

    Used by the tests to check what :func:`write_pcap` produced, and small enough to
    serve a future import command.
    """
    if len(data) < _GLOBAL.size:
        raise PcapError("not a pcap file: shorter than its header")
    (magic,) = struct.unpack("<I", data[:4])
    if magic in (MAGIC_USEC, 0xA1B23C4D):
        endian = "<"
    else:
        (magic,) = struct.unpack(">I", data[:4])
        if magic not in (MAGIC_USEC, 0xA1B23C4D):
            raise PcapError("not a pcap file: bad magic number")
        endian = ">"
    scale = 1e-6 if magic == MAGIC_USEC else 1e-9
    glob = struct.Struct(endian + "IHHiIII")
    rec = struct.Struct(endian + "IIII")
    _magic, _major, _minor, _zone, _sig, _snap, linktype = glob.unpack_from(data, 0)
    pos, frames = glob.size, []
    while pos < len(data):
        if pos + rec.size > len(data):
            raise PcapError("truncated pcap record header")
        sec, frac, incl, orig = rec.unpack_from(data, pos)
        pos += rec.size
        if pos + incl > len(data):
            raise PcapError("truncated pcap record")
        frames.append(Frame(sec + frac * scale, data[pos : pos + incl], orig))
        pos += incl
    return linktype, frames
