"""The netlink wire format shared by the lean decoders: headers, attributes, control messages.

Small on purpose: the three decoders kept for the big dumps (links, routes,
neighbours) build on these few helpers, and their hot loops inline what they
use. Sockets and requests are pyroute2's (:mod:`.netlink_query`); only the
reading of the datagrams a dump returns happens here.
"""

from __future__ import annotations

import gc
import os
import socket
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .errors import NetlinkError

AF_UNSPEC = 0
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
AF_BRIDGE = 7

# nlmsghdr types and flags (linux/netlink.h), rtnetlink answers (linux/rtnetlink.h)
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_DUMP_INTR = 0x10
RTM_NEWLINK = 16
RTM_NEWROUTE = 24
RTM_NEWNEIGH = 28

NLMSG_HEADER = struct.Struct("=IHHII")
NLA_HEADER = struct.Struct("=HH")
U8 = struct.Struct("=B")
U16 = struct.Struct("=H")
U32 = struct.Struct("=I")
S32 = struct.Struct("=i")
IFINFOMSG_S = struct.Struct("=BxHiII")
NDMSG_S = struct.Struct("=BxxxiHBB")

NLA_TYPE_MASK = 0x3FFF  # strips NLA_F_NESTED / NLA_F_NET_BYTEORDER

IFF_UP = 0x1
IFF_NOARP = 0x80
IFF_LOWER_UP = 0x10000

FAMILIES: dict[int, str] = {AF_INET: "inet", AF_INET6: "inet6"}


class DumpInterrupted(Exception):
    """The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR): read it again."""


def raise_for_control(chunk: bytes, offset: int, msg_type: int, flags: int) -> bool:
    """Handle a control message met while decoding; True means the reply is complete.

    Decoders call this only for message types they do not decode, so the common
    path stays a single integer comparison per message. A kernel error becomes
    the probes' :class:`~.errors.NetlinkError`.
    """
    if msg_type == NLMSG_DONE or msg_type == NLMSG_ERROR:
        if len(chunk) >= offset + 20:
            (code,) = S32.unpack_from(chunk, offset + 16)
            if code < 0:
                raise NetlinkError(-code, f"netlink dump refused: {os.strerror(-code)}")
        return True  # the end of a dump, or an ACK
    if flags & NLM_F_DUMP_INTR:
        raise DumpInterrupted()
    return False


def attrs(buf: bytes, start: int, end: int) -> dict[int, tuple[int, int]]:
    """Attribute type -> (payload start, payload end) for one attribute block."""
    out: dict[int, tuple[int, int]] = {}
    unpack = NLA_HEADER.unpack_from
    while start + 4 <= end:
        length, atype = unpack(buf, start)
        if length < 4:
            break
        out[atype & NLA_TYPE_MASK] = (start + 4, start + length)
        start += (length + 3) & ~3
    return out


def cstr(buf: bytes, span: tuple[int, int]) -> str:
    return buf[span[0] : span[1]].split(b"\0", 1)[0].decode("utf-8", "replace")


def read_u8(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return U8.unpack_from(buf, span[0])[0] if span else default


def read_u16(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return U16.unpack_from(buf, span[0])[0] if span else default


def read_u32(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return U32.unpack_from(buf, span[0])[0] if span else default


def messages_of(chunks: Iterable[bytes], wanted: int) -> Iterable[tuple[bytes, int, int, int]]:
    """(datagram, body start, message end, flags) for each message of type ``wanted``.

    For the small dumps; the route and link decoders inline this loop.
    """
    for chunk in chunks:
        offset = 0
        size = len(chunk)
        while offset + 16 <= size:
            length, mtype, mflags, _seq, _pid = NLMSG_HEADER.unpack_from(chunk, offset)
            if length < 16:
                break
            if mtype == wanted:
                if mflags & NLM_F_DUMP_INTR:
                    raise DumpInterrupted()
                yield chunk, offset + 16, offset + length, mflags
            elif raise_for_control(chunk, offset, mtype, mflags):
                return
            offset += (length + 3) & ~3


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a big dump becomes rows.

    Rows hold no reference cycles, but allocating 100,000 of them triggers
    dozens of generation-0/1 collections that each walk the young objects: about
    a tenth of the decoding time, for nothing. Left alone if someone else
    (the app, another probe thread) already paused it.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
