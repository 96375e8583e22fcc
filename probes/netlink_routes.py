"""Decode an RTM_GETROUTE dump into RouteRows (the answer to one lookup is pyroute2's).

This is the hot path of a 100,000-route table (see ``vnetdoctor bench netlink``):
one pass; a message with the layout of the one before it is read with one
``struct`` call; rows are built without the frozen dataclass's ``__init__``.
"""

from __future__ import annotations

import operator
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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


_NEW = object.__new__


def decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    """RouteRows from an RTM_GETROUTE dump (IPv4 and IPv6; multicast families skipped).

    A multipath route gives one row per next hop (same dst, table and metric), so
    a rule asking "is there a route to X via Y" needs no special case.
    """
    with gc_paused():
        return _decode_routes(chunks, names)


def _decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    """The hot loop of a 100,000-route table (``vnetdoctor bench netlink``).

    Nearly every message of a big table has the layout of the one before it, so
    the fast path reads a whole message with one ``struct`` call, checks every
    header in it against that layout, and takes its texts from memos (a table has
    many routes but few tables, types, gateways and devices). Any other message
    (multipath, RTA_VIA, a new layout, a control message) is walked attribute by
    attribute, and a new simple layout is learnt from it.
    """
    out: list[RouteRow] = []
    append = out.append
    texts = _RouteTexts(names)
    headers, addresses, devices = texts.headers, texts.addresses, texts.devices
    shapes: dict[tuple[int, ...], _RouteShape | None] = {}  # by family and attribute headers
    shape: _RouteShape | None = None  # the layout of the last simple message
    ntop, inet, absent, new = socket.inet_ntop, AF_INET, _ABSENT, _NEW
    for chunk in chunks:
        offset, size = 0, len(chunk)
        while offset + 16 <= size:
            if shape is not None and offset + shape.size <= size:
                values = shape.unpack(chunk, offset)
                if shape.check(values) == shape.expected:
                    family, dst_len, dst, gateway, oif, metric, prefsrc = shape.pick(
                        values + absent
                    )
                    if dst:
                        text = ntop(family, dst)
                        if dst_len != (32 if family == inet else 128):
                            text = f"{text}/{dst_len}"
                    else:
                        text = _prefix(family, b"", dst_len)
                    # _route_row, inlined: a call per row is a tenth of the loop
                    table, rtype, proto, scope, fam = headers[shape.header_key(values)]
                    row = new(RouteRow)
                    fields = row.__dict__
                    fields["dst"] = text
                    fields["table"] = table
                    fields["type"] = rtype
                    fields["gateway"] = addresses[gateway]
                    fields["dev"] = devices[oif]
                    fields["prefsrc"] = addresses[prefsrc]
                    fields["protocol"] = proto
                    fields["scope"] = scope
                    fields["metric"] = metric
                    fields["family"] = fam
                    append(row)
                    offset += shape.size
                    continue
            length, mtype, mflags, _seq, _pid = NLMSG_HEADER.unpack_from(chunk, offset)
            if length < 16:
                break
            if mtype != RTM_NEWROUTE:
                if raise_for_control(chunk, offset, mtype, mflags):
                    return out
            else:
                if mflags & NLM_F_DUMP_INTR:
                    raise DumpInterrupted()
                layout = _walk_route(chunk, offset, length, texts, append)
                if layout is not None:
                    if layout not in shapes:
                        shapes[layout] = _RouteShape.learn(chunk, offset, length)
                    shape = shapes[layout] or shape
            offset += (length + 3) & ~3
    return out


def _route_row(
    dst: str,
    header: tuple[str, str, str, str, str],
    gateway: str,
    dev: str,
    prefsrc: str,
    metric: int,
) -> RouteRow:
    """A RouteRow built without the frozen dataclass's ``__init__``.

    That ``__init__`` sets each of the ten fields through ``object.__setattr__``,
    which was a third of a 100,000-route dump. Filling the instance's dict gives
    the same object (``test_route_row_is_a_route_row`` compares them field by
    field); RouteRow has no ``__post_init__`` to skip.
    """
    table, rtype, proto, scope, family = header
    row = _NEW(RouteRow)
    fields = row.__dict__  # in the order of the fields, as __init__ would: the dicts share keys
    fields["dst"] = dst
    fields["table"] = table
    fields["type"] = rtype
    fields["gateway"] = gateway
    fields["dev"] = dev
    fields["prefsrc"] = prefsrc
    fields["protocol"] = proto
    fields["scope"] = scope
    fields["metric"] = metric
    fields["family"] = family
    return row


class _Memo(dict[Any, Any]):
    """A dict that makes a missing value once (``make(key)``) and keeps it."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Any], Any], **known: Any):
        super().__init__(known)
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.make(key)
        return value


class _RouteTexts:
    """The texts of one dump: header names per (family, table, type, protocol, scope),
    addresses per raw bytes (gateways and sources: few distinct values), device
    names per ifindex."""

    __slots__ = ("addresses", "devices", "headers")

    def __init__(self, names: Mapping[int, str]):
        self.headers = _Memo(lambda key: _route_header_text(*key))
        self.addresses = _Memo(_address_text)
        self.addresses[b""] = ""
        self.devices = _Memo(lambda oif: names.get(oif) or str(oif))
        self.devices[0] = ""


def _address_text(raw: bytes) -> str:
    return socket.inet_ntop(AF_INET if len(raw) == 4 else AF_INET6, raw)


def _walk_route(
    chunk: bytes,
    offset: int,
    length: int,
    texts: _RouteTexts,
    append: Callable[[RouteRow], None],
) -> tuple[int, ...] | None:
    """Decode one route message attribute by attribute (the slow path).

    Returns its layout (family, then each attribute's length and type) when the
    fast path could read messages like it, None for one it could not.
    """
    family, dst_len, _src_len, _tos, table, proto, scope, rtype, _rflags = _RTMSG.unpack_from(
        chunk, offset + 16
    )
    if family != AF_INET and family != AF_INET6:
        return None
    layout = [family]
    dst = gateway = prefsrc = b""
    oif = metric = 0
    multipath: tuple[int, int] | None = None
    via = ""
    pos = offset + 28
    end = offset + length
    while pos + 4 <= end:
        alen, atype = NLA_HEADER.unpack_from(chunk, pos)
        if alen < 4:
            break
        layout += (alen, atype)
        if atype == RTA_TABLE:
            table = U32.unpack_from(chunk, pos + 4)[0]
        elif atype == RTA_DST:
            dst = chunk[pos + 4 : pos + alen]
        elif atype == RTA_GATEWAY:
            gateway = chunk[pos + 4 : pos + alen]
        elif atype == RTA_OIF:
            oif = U32.unpack_from(chunk, pos + 4)[0]
        elif atype == RTA_PRIORITY:
            metric = U32.unpack_from(chunk, pos + 4)[0]
        elif atype == RTA_PREFSRC:
            prefsrc = chunk[pos + 4 : pos + alen]
        elif atype == RTA_MULTIPATH:
            multipath = (pos + 4, pos + alen)
        elif atype == RTA_VIA:
            via = _via(chunk, pos + 4, pos + alen)
        pos += (alen + 3) & ~3
    header = texts.headers[(family, table, rtype, proto, scope)]
    dst_text = _prefix(family, dst, dst_len)
    src_text = texts.addresses[prefsrc]
    if multipath is None:
        gw_text = texts.addresses[gateway] if gateway else via
        append(_route_row(dst_text, header, gw_text, texts.devices[oif], src_text, metric))
        return None if via else tuple(layout)
    for hop_oif, hop_gw in _nexthops(chunk, multipath[0], multipath[1], family):
        append(_route_row(dst_text, header, hop_gw, texts.devices[hop_oif], src_text, metric))
    return None


# Values for the attributes a layout lacks, appended to its unpacked tuple so that one
# itemgetter picks (dst, gateway, oif, metric, prefsrc) whatever the layout has.
_ABSENT = (b"", b"", 0, 0, b"")
_ABSENT_AT = {RTA_DST: 0, RTA_GATEWAY: 1, RTA_OIF: 2, RTA_PRIORITY: 3, RTA_PREFSRC: 4}


class _RouteShape:
    """The layout of one whole route message: netlink header, rtmsg and attributes.

    Learnt from a message walked the slow way. Another message has the same layout
    when its length, type, flags, family and every attribute header (length and
    type, in order) are the same: ``check(values) == expected``, one comparison.
    Then ``pick`` takes (family, dst_len, dst, gateway, oif, metric, prefsrc) from
    ``values + _ABSENT`` and ``header_key`` the (family, table, type, protocol,
    scope) its names are memoised by.
    """

    __slots__ = ("check", "expected", "header_key", "pick", "size", "unpack")

    size: int
    unpack: Callable[[bytes, int], tuple[Any, ...]]
    check: Callable[[tuple[Any, ...]], Any]
    expected: Any
    pick: Callable[[tuple[Any, ...]], Any]
    header_key: Callable[[tuple[Any, ...]], Any]

    # where the netlink header and the rtmsg put their fields in the unpacked tuple
    _LENGTH, _TYPE, _FLAGS, _FAMILY, _DST_LEN, _TABLE, _PROTO, _SCOPE, _RTYPE = (
        0, 1, 2, 5, 6, 9, 10, 11, 12
    )

    @classmethod
    def learn(cls, buf: bytes, offset: int, length: int) -> _RouteShape | None:
        """The layout of the message at ``offset``, or None for one the fast path cannot read."""
        fmt = ["=IHHIIBBBBBBBBI"]
        index = 14
        checked = [cls._LENGTH, cls._TYPE, cls._FLAGS, cls._FAMILY]
        values_at: dict[int, int] = {}
        pos = offset + 28
        end = offset + length
        while pos + 4 <= end:
            alen, atype = NLA_HEADER.unpack_from(buf, pos)
            if alen < 4 or pos + alen > end or atype in (RTA_MULTIPATH, RTA_VIA):
                return None
            padded = (alen + 3) & ~3
            fmt.append("HH")
            checked += [index, index + 1]
            index += 2
            payload = alen - 4
            if atype in (RTA_TABLE, RTA_OIF, RTA_PRIORITY):
                if payload != 4:
                    return None
                fmt.append("I")
            elif atype in (RTA_DST, RTA_GATEWAY, RTA_PREFSRC):
                fmt.append(f"{payload}s")
            else:
                fmt.append(f"{padded - 4}x")
                pos += padded
                continue
            values_at[atype] = index
            index += 1
            if padded > alen:
                fmt.append(f"{padded - alen}x")
            pos += padded
        layout = struct.Struct("".join(fmt))
        if pos != end or layout.size != length or length & 3:
            return None
        first = layout.unpack_from(buf, offset)
        if first[cls._FAMILY] not in (AF_INET, AF_INET6) or first[cls._FLAGS] & NLM_F_DUMP_INTR:
            return None
        shape = cls()
        shape.size = length
        shape.unpack = layout.unpack_from
        shape.check = operator.itemgetter(*checked)
        shape.expected = shape.check(first)
        picked = [cls._FAMILY, cls._DST_LEN]
        for atype, slot in _ABSENT_AT.items():
            picked.append(values_at.get(atype, index + slot))
        shape.pick = operator.itemgetter(*picked)
        shape.header_key = operator.itemgetter(
            cls._FAMILY,
            values_at.get(RTA_TABLE, cls._TABLE),
            cls._RTYPE,
            cls._PROTO,
            cls._SCOPE,
        )
        return shape


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
