"""Decode an RTM_GETROUTE dump into RouteRows (the answer to one lookup is pyroute2's).

This is the hot path of a 100,000-route table (see ``vnetdoctor bench netlink``):
one pass; a message with the layout of the one before it is read with one
``struct`` call; rows are built without the frozen dataclass's ``__init__``.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .netlink_route_shape import ABSENT, RouteShape
from .netlink_route_words import (
    RTA_DST,
    RTA_GATEWAY,
    RTA_MULTIPATH,
    RTA_OIF,
    RTA_PREFSRC,
    RTA_PRIORITY,
    RTA_TABLE,
    RTA_VIA,
    route_header_text,
)
from .netlink_wire import (
    AF_INET,
    AF_INET6,
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
    shapes: dict[tuple[int, ...], RouteShape | None] = {}  # by family and attribute headers
    shape: RouteShape | None = None  # the layout of the last simple message
    ntop, inet, absent, make = socket.inet_ntop, AF_INET, ABSENT, _route_row
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
                    append(
                        make(
                            text,
                            headers[shape.header_key(values)],
                            addresses[gateway],
                            devices[oif],
                            addresses[prefsrc],
                            metric,
                        )
                    )
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
                        shapes[layout] = RouteShape.learn(chunk, offset, length)
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
        self.headers = _Memo(lambda key: route_header_text(*key))
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
