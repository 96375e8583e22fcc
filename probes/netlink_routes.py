"""Decode an RTM_GETROUTE dump into RouteRows (the answer to one lookup is pyroute2's).

This is the hot path of a 100,000-route table (see ``vnetdoctor bench netlink``):
one pass, attributes tested in the order the kernel sends them, and a cache of
the attribute layout shared by most messages of one length.
"""

from __future__ import annotations

import operator
import socket
import struct
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from .netlink_wire import (
    AF_INET,
    AF_INET6,
    FAMILIES,
    NLA_HEADER,
    NLM_F_DUMP_INTR,
    NLMSG_HEADER,
    RTM_NEWROUTE,
    U16,
    U32,
    DumpInterrupted,
    attrs,
    gc_paused,
    raise_for_control,
)
from .rows import RouteRow

_RTMSG = struct.Struct("=BBBBBBBBI")
_RTNEXTHOP = struct.Struct("=HBBi")

# --- route attributes (linux/rtnetlink.h) ---
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_PREFSRC = 7
RTA_MULTIPATH = 9
RTA_TABLE = 15
RTA_VIA = 18

ROUTE_TYPES = (
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
)
# /etc/iproute2/rt_protos plus the well-known daemons of rt_protos.d
ROUTE_PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    17: "mrouted",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
ROUTE_SCOPES = {0: "universe", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_TABLES = {0: "unspec", 253: "default", 254: "main", 255: "local"}


def table_name(table: int) -> str:
    return ROUTE_TABLES.get(table) or str(table)


def _prefix(family: int, addr: bytes, plen: int) -> str:
    if not addr:
        return "default" if plen == 0 else ("0.0.0.0" if family == AF_INET else "::") + f"/{plen}"
    text = socket.inet_ntop(family, addr)
    if plen == (32 if family == AF_INET else 128):
        return text
    return f"{text}/{plen}"


def decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    """RouteRows from an RTM_GETROUTE dump (IPv4 and IPv6; multicast families skipped).

    A multipath route gives one row per next hop (same dst, table and metric), so
    a rule asking "is there a route to X via Y" needs no special case.

    This is the hot loop of a 100,000-route table, hence the shape: attributes
    tested in the order the kernel sends them, one dict lookup for the four
    header names, and memoised text for gateways and sources (a big table has
    many routes and few next hops).
    """
    with gc_paused():
        return _decode_routes(chunks, names)


def _decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    out: list[RouteRow] = []
    append = out.append
    unpack_hdr = NLMSG_HEADER.unpack_from
    unpack_nla = NLA_HEADER.unpack_from
    unpack_rtm = _RTMSG.unpack_from
    u32 = U32.unpack_from
    ntop = socket.inet_ntop
    names_get = names.get
    header_text: dict[tuple[int, int, int, int, int], tuple[str, str, str, str, str]] = {}
    addr_text: dict[bytes, str] = {}  # gateways and sources: few distinct values
    dev_text: dict[int, str] = {0: ""}
    shapes: dict[int, _RouteShape | None] = {}
    inet, inet6 = AF_INET, AF_INET6
    for chunk in chunks:
        offset = 0
        size = len(chunk)
        while offset + 16 <= size:
            length, mtype, mflags, _seq, _pid = unpack_hdr(chunk, offset)
            if length < 16:
                break
            if mtype != RTM_NEWROUTE:
                if raise_for_control(chunk, offset, mtype, mflags):
                    return out
                offset += (length + 3) & ~3
                continue
            if mflags & NLM_F_DUMP_INTR:
                raise DumpInterrupted()
            family, dst_len, _src_len, _tos, table, proto, scope, rtype, _rflags = unpack_rtm(
                chunk, offset + 16
            )
            if family != inet and family != inet6:
                offset += (length + 3) & ~3
                continue
            dst = gateway = prefsrc = b""
            oif = metric = 0
            multipath: tuple[int, int] | None = None
            via = ""
            pos = offset + 28
            end = offset + length
            shape = shapes.get(length)
            if shape is not None:
                values = shape.unpack(chunk, offset)
                if values is not None:
                    table_v, dst, gateway, oif, metric, prefsrc = values
                    if table_v is not None:
                        table = table_v
                    pos = end  # done: skip the walk below
                else:
                    shapes[length] = None  # this length comes in several layouts: walk them
            elif length not in shapes:
                shapes[length] = _RouteShape.learn(chunk, offset, length)
            while pos + 4 <= end:
                alen, atype = unpack_nla(chunk, pos)
                if alen < 4:
                    break
                if atype == RTA_TABLE:
                    table = u32(chunk, pos + 4)[0]
                elif atype == RTA_DST:
                    dst = chunk[pos + 4 : pos + alen]
                elif atype == RTA_GATEWAY:
                    gateway = chunk[pos + 4 : pos + alen]
                elif atype == RTA_OIF:
                    oif = u32(chunk, pos + 4)[0]
                elif atype == RTA_PRIORITY:
                    metric = u32(chunk, pos + 4)[0]
                elif atype == RTA_PREFSRC:
                    prefsrc = chunk[pos + 4 : pos + alen]
                elif atype == RTA_MULTIPATH:
                    multipath = (pos + 4, pos + alen)
                elif atype == RTA_VIA:
                    via = _via(chunk, pos + 4, pos + alen)
                pos += (alen + 3) & ~3
            key = (family, table, rtype, proto, scope)
            texts = header_text.get(key)
            if texts is None:
                texts = header_text[key] = _route_header_text(*key)
            table_text, type_text, proto_text, scope_text, fam = texts
            if dst:
                text = ntop(family, dst)
                dst_text = (
                    text if dst_len == (32 if family == inet else 128) else f"{text}/{dst_len}"
                )
            else:
                dst_text = _prefix(family, b"", dst_len)
            if prefsrc:
                src_text = addr_text.get(prefsrc)
                if src_text is None:
                    src_text = addr_text[prefsrc] = ntop(family, prefsrc)
            else:
                src_text = ""
            if multipath is None:
                if gateway:
                    gw_text = addr_text.get(gateway)
                    if gw_text is None:
                        gw_text = addr_text[gateway] = ntop(family, gateway)
                else:
                    gw_text = via
                dev = dev_text.get(oif)
                if dev is None:
                    dev = dev_text[oif] = names_get(oif) or str(oif)
                append(
                    RouteRow(
                        dst_text,
                        table_text,
                        type_text,
                        gw_text,
                        dev,
                        src_text,
                        proto_text,
                        scope_text,
                        metric,
                        fam,
                    )
                )
            else:
                for hop_oif, hop_gw in _nexthops(chunk, multipath[0], multipath[1], family):
                    dev = (names_get(hop_oif) or str(hop_oif)) if hop_oif else ""
                    append(
                        RouteRow(
                            dst_text,
                            table_text,
                            type_text,
                            hop_gw,
                            dev,
                            src_text,
                            proto_text,
                            scope_text,
                            metric,
                            fam,
                        )
                    )
            offset += (length + 3) & ~3
    return out


class _RouteShape:
    """The attribute layout shared by the route messages of one length.

    In a big table nearly every route message has the same attributes in the
    same order (table, dst, gateway, oif). Once one message of a length has been
    walked, the others of that length are read with a single ``struct`` call,
    after checking that every attribute header is the one expected; a message
    that differs is walked the normal way.
    """

    __slots__ = ("_expected", "_fields", "_headers", "_struct")

    # attribute -> position of its value in the (table, dst, gateway, oif, metric, prefsrc) result
    _SLOTS: ClassVar[dict[int, int]] = {
        RTA_TABLE: 0,
        RTA_DST: 1,
        RTA_GATEWAY: 2,
        RTA_OIF: 3,
        RTA_PRIORITY: 4,
        RTA_PREFSRC: 5,
    }
    _DEFAULTS = (None, b"", b"", 0, 0, b"")

    def __init__(
        self, fmt: str, headers: list[int], expected: tuple[int, ...], fields: list[tuple[int, int]]
    ):
        self._struct = struct.Struct(fmt)
        self._headers = operator.itemgetter(*headers)
        self._expected = expected
        self._fields = fields  # (index in the unpacked tuple, slot)

    @classmethod
    def learn(cls, buf: bytes, offset: int, length: int) -> _RouteShape | None:
        """The shape of the message at ``offset``, or None when it cannot have one."""
        fmt = ["=16x12x"]
        headers: list[int] = []
        expected: list[int] = []
        fields: list[tuple[int, int]] = []
        index = 0
        pos = offset + 28
        end = offset + length
        while pos + 4 <= end:
            alen, atype = NLA_HEADER.unpack_from(buf, pos)
            if alen < 4 or pos + alen > end:
                return None
            if atype in (RTA_MULTIPATH, RTA_VIA):
                return None
            padded = (alen + 3) & ~3
            fmt.append("HH")
            headers += [index, index + 1]
            expected += [alen, atype]
            index += 2
            payload = alen - 4
            slot = cls._SLOTS.get(atype)
            if slot is None:
                fmt.append(f"{padded - 4}x")
            elif slot in (0, 3, 4):
                if payload != 4:
                    return None
                fmt.append("I")
                fields.append((index, slot))
                index += 1
                if padded > alen:
                    fmt.append(f"{padded - alen}x")
            else:
                fmt.append(f"{payload}s")
                fields.append((index, slot))
                index += 1
                if padded > alen:
                    fmt.append(f"{padded - alen}x")
            pos += padded
        if pos != end or not headers:
            return None
        shape = cls("".join(fmt), headers, tuple(expected), fields)
        return shape if shape._struct.size == length else None

    def unpack(self, buf: bytes, offset: int) -> list[Any] | None:
        values = self._struct.unpack_from(buf, offset)
        if self._headers(values) != self._expected:
            return None
        out: list[Any] = list(self._DEFAULTS)  # (int | None, bytes, bytes, int, int, bytes)
        for index, slot in self._fields:
            out[slot] = values[index]
        return out


def _route_header_text(
    family: int, table: int, rtype: int, proto: int, scope: int
) -> tuple[str, str, str, str, str]:
    return (
        ROUTE_TABLES.get(table) or str(table),
        ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype),
        ROUTE_PROTOCOLS.get(proto) or str(proto),
        ROUTE_SCOPES.get(scope) or str(scope),
        FAMILIES[family],
    )


def _via(buf: bytes, start: int, end: int) -> str:
    """RTA_VIA: an address of another family (IPv4 route via an IPv6 next hop)."""
    (family,) = U16.unpack_from(buf, start)
    addr = buf[start + 2 : end]
    try:
        return socket.inet_ntop(family, addr)
    except (OSError, ValueError):
        return addr.hex()


def _nexthops(buf: bytes, start: int, end: int, family: int) -> list[tuple[int, str]]:
    hops = []
    pos = start
    while pos + 8 <= end:
        hop_len, _flags, _hops, ifindex = _RTNEXTHOP.unpack_from(buf, pos)
        if hop_len < 8:
            break
        inner = attrs(buf, pos + 8, pos + hop_len)
        gateway = ""
        if RTA_GATEWAY in inner:
            s, e = inner[RTA_GATEWAY]
            gateway = socket.inet_ntop(family, buf[s:e])
        elif RTA_VIA in inner:
            gateway = _via(buf, *inner[RTA_VIA])
        hops.append((ifindex, gateway))
        pos += (hop_len + 3) & ~3
    return hops
