"""Decode an RTM_GETNEIGH dump (ARP and NDP caches) into NeighRows."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping

from .netlink_wire import AF_INET, AF_INET6, NDMSG_S, NLA_HEADER, RTM_NEWNEIGH, messages_of
from .rows import NeighRow

# --- neighbour attributes (linux/neighbour.h) ---
# --- neighbour (linux/neighbour.h) ---
NDA_DST = 1
NDA_LLADDR = 2
NUD_STATES = (
    (0x80, "PERMANENT"),
    (0x40, "NOARP"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x01, "INCOMPLETE"),
)


def nud_state_name(state: int) -> str:
    """One name for a neighbour state bitmask (the kernel sets exactly one bit)."""
    for bit, name in NUD_STATES:
        if state & bit:
            return name
    return "NONE"


def decode_neighbours(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[NeighRow]:
    """NeighRows (ARP and NDP entries) from an RTM_GETNEIGH dump."""
    out: list[NeighRow] = []
    unpack_nla = NLA_HEADER.unpack_from
    ntop = socket.inet_ntop
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWNEIGH):
        family, index, state, _nflags, _type = NDMSG_S.unpack_from(buf, start)
        if family != AF_INET and family != AF_INET6:
            continue
        dst = b""
        lladdr = ""
        pos = start + 12
        while pos + 4 <= end:
            alen, atype = unpack_nla(buf, pos)
            if alen < 4:
                break
            if atype == NDA_DST:
                dst = buf[pos + 4 : pos + alen]
            elif atype == NDA_LLADDR:
                lladdr = buf[pos + 4 : pos + alen].hex(":")
            pos += (alen + 3) & ~3
        if not dst:
            continue
        out.append(
            NeighRow(
                ifname=names.get(index) or str(index),
                address=ntop(family, dst),
                lladdr=lladdr,
                state=nud_state_name(state),
                family="inet" if family == AF_INET else "inet6",
            )
        )
    return out
