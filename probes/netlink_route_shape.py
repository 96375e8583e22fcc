"""The fast path of the route dump decoder: the layout of one whole route message.

Nearly every message of a big routing table has the layout of the one before it,
so :mod:`.netlink_routes` reads such a message with one ``struct`` call instead
of walking its attributes one by one; this module learns and checks that layout.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from typing import Any

from .netlink_route_words import (
    RTA_DST,
    RTA_GATEWAY,
    RTA_MULTIPATH,
    RTA_OIF,
    RTA_PREFSRC,
    RTA_PRIORITY,
    RTA_TABLE,
    RTA_VIA,
)
from .netlink_wire import AF_INET, AF_INET6, NLA_HEADER, NLM_F_DUMP_INTR

# Values for the attributes a layout lacks, appended to its unpacked tuple so that one
# itemgetter picks (dst, gateway, oif, metric, prefsrc) whatever the layout has.
ABSENT = (b"", b"", 0, 0, b"")
ABSENT_AT = {RTA_DST: 0, RTA_GATEWAY: 1, RTA_OIF: 2, RTA_PRIORITY: 3, RTA_PREFSRC: 4}


class RouteShape:
    """The layout of one whole route message: netlink header, rtmsg and attributes.

    Learnt from a message walked the slow way. Another message has the same layout
    when its length, type, flags, family and every attribute header (length and
    type, in order) are the same: ``check(values) == expected``, one comparison.
    Then ``pick`` takes (family, dst_len, dst, gateway, oif, metric, prefsrc) from
    ``values + ABSENT`` and ``header_key`` the (family, table, type, protocol,
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
    def learn(cls, buf: bytes, offset: int, length: int) -> RouteShape | None:
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
        for atype, slot in ABSENT_AT.items():
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
