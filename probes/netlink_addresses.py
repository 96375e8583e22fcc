"""Decode an RTM_GETADDR dump into AddrRows, with iproute2's names for scopes and flags."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Mapping

from .netlink_socket import AF_INET, RTM_NEWADDR
from .netlink_wire import FAMILIES, attrs, messages_of, read_u32
from .rows import AddrRow

_IFADDRMSG = struct.Struct("=BBBBI")

ADDR_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

# --- addresses (linux/if_addr.h) ---
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_FLAGS = 8
IFA_F_SECONDARY = 0x01
IFA_F_PERMANENT = 0x80
# iproute2's names, in the order ``ip addr`` prints them.
ADDR_FLAG_NAMES = (
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
)


def addr_flag_names(family: int, flags: int) -> tuple[str, ...]:
    """iproute2's words for IFA_F_* bits (``dynamic`` = not permanent)."""
    out = []
    if flags & IFA_F_SECONDARY:
        out.append("secondary" if family == AF_INET else "temporary")
    for bit, name in ADDR_FLAG_NAMES:
        if flags & bit:
            out.append(name)
    if not flags & IFA_F_PERMANENT:
        out.append("dynamic")
    return tuple(out)


def decode_addrs(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[AddrRow]:
    """AddrRows from an RTM_GETADDR dump (IPv4 and IPv6)."""
    out: list[AddrRow] = []
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWADDR):
        family, prefixlen, flags8, scope, index = _IFADDRMSG.unpack_from(buf, start)
        if family not in FAMILIES:
            continue
        top = attrs(buf, start + 8, end)
        span = top.get(IFA_LOCAL) or top.get(IFA_ADDRESS)
        if span is None:
            continue
        flags = read_u32(buf, top[IFA_FLAGS]) if IFA_FLAGS in top else flags8
        out.append(
            AddrRow(
                ifname=names.get(index) or str(index),
                family=FAMILIES[family],
                address=socket.inet_ntop(family, buf[span[0] : span[1]]),
                prefixlen=prefixlen,
                scope=ADDR_SCOPES.get(scope) or str(scope),
                flags=addr_flag_names(family, flags),
            )
        )
    return out
