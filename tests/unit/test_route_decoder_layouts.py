"""The route decoder's fast path must read exactly what the slow path reads.

A big table is decoded by reading each message whole with the layout of the one
before it (``netlink_route_shape.RouteShape``). These dumps are built to trip that:
layouts of the same length that differ only in which attribute comes where, a
layout change in the middle of a run, a multipath and an IPv6 route between
them, a run split across datagrams. pyroute2 decodes the very same bytes as the
independent reference.
"""

from __future__ import annotations

import dataclasses
import socket
import struct

import pytest

from tests.unit.support.probe_recording import parse
from vnetdoctor import bench_netlink_pyroute2 as ref
from vnetdoctor.probes import netlink_route_words as words
from vnetdoctor.probes import netlink_routes as nr
from vnetdoctor.probes.netlink_wire import NLM_F_DUMP_INTR, DumpInterrupted
from vnetdoctor.probes.rows import RouteRow

NAMES = {2: "br0", 3: "uplink"}
RTM_NEWROUTE, NLMSG_DONE, NLM_F_MULTI = 24, 3, 2


def _attr(atype: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), atype) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _u32(atype: int, value: int) -> bytes:
    return _attr(atype, struct.pack("=I", value))


def _message(body: bytes, mtype: int = RTM_NEWROUTE, flags: int = NLM_F_MULTI) -> bytes:
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, 7, 0) + body


def _route(*attributes: bytes, family: int = socket.AF_INET, dst_len: int = 24, proto: int = 4,
           scope: int = 0, rtype: int = 1, flags: int = NLM_F_MULTI) -> bytes:
    rtmsg = struct.pack("=BBBBBBBBI", family, dst_len, 0, 0, 254, proto, scope, rtype, 0)
    return _message(rtmsg + b"".join(attributes), flags=flags)


def _v4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def via_gateway(n: int) -> bytes:  # table, dst, gateway, oif: 60 bytes
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, _v4(f"198.18.{n}.0")),
                  _attr(words.RTA_GATEWAY, _v4("198.18.0.2")), _u32(words.RTA_OIF, 2))


def with_source(n: int) -> bytes:  # table, dst, prefsrc, oif: also 60 bytes
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, _v4(f"198.19.{n}.0")),
                  _attr(words.RTA_PREFSRC, _v4("198.18.0.1")), _u32(words.RTA_OIF, 3),
                  proto=2, scope=253)


def with_metric(n: int) -> bytes:  # table, dst, oif, priority: 60 bytes again
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, _v4(f"203.0.113.{n}")),
                  _u32(words.RTA_OIF, 2), _u32(words.RTA_PRIORITY, 100 + n), dst_len=32)


def unnamed_table(n: int) -> bytes:  # a table of its own, a device with no name
    return _route(_u32(words.RTA_TABLE, 1000 + n), _attr(words.RTA_DST, _v4(f"192.0.2.{n}")),
                  _u32(words.RTA_OIF, 9), dst_len=32, rtype=6)


def _hop(oif: int, gateway: str) -> bytes:
    return struct.pack("=HBBi", 8 + 8, 0, 0, oif) + _attr(words.RTA_GATEWAY, _v4(gateway))


def multipath() -> bytes:
    hops = _hop(2, "198.18.0.11") + _hop(3, "203.0.113.254")
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, _v4("198.51.100.0")),
                  _attr(words.RTA_MULTIPATH, hops))


def ipv6(n: int) -> bytes:
    dst = socket.inet_pton(socket.AF_INET6, f"2001:db8:{n}::")
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, dst), _u32(words.RTA_OIF, 2),
                  _u32(words.RTA_PRIORITY, 256), family=socket.AF_INET6, dst_len=48)


def default_route() -> bytes:
    return _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_GATEWAY, _v4("203.0.113.254")),
                  _u32(words.RTA_OIF, 3), dst_len=0)


DONE = _message(struct.pack("=i", 0), mtype=NLMSG_DONE)


def _dump() -> list[bytes]:
    messages = [default_route()]
    messages += [via_gateway(n) for n in range(5)]
    messages += [with_source(n) for n in range(3)]  # same length, other layout
    messages += [via_gateway(n) for n in range(5, 8)]  # back to the first layout
    messages += [multipath(), ipv6(1), via_gateway(8), ipv6(2), ipv6(3)]
    messages += [with_metric(n) for n in range(4)] + [with_source(9)]
    messages += [unnamed_table(n) for n in range(3)]
    half = len(messages) // 2  # a run of one layout split across two datagrams
    return [b"".join(messages[:half]), b"".join(messages[half:]) + DONE]


def test_the_fast_path_reads_what_pyroute2_reads():
    chunks = _dump()
    rows = nr.decode_routes(chunks, NAMES)
    assert rows == ref.route_rows(parse(chunks), NAMES)
    assert len(rows) == 26  # 25 messages; the multipath one gives two rows
    assert rows[0] == RouteRow("default", "main", "unicast", "203.0.113.254", "uplink", "",
                               "static", "universe", 0, "inet")
    sources = [r for r in rows if r.dst.startswith("198.19.")]
    assert {(r.gateway, r.prefsrc, r.dev, r.scope) for r in sources} == {
        ("", "198.18.0.1", "uplink", "link")
    }
    assert [r.metric for r in rows if r.dst.startswith("203.0.113.")] == [100, 101, 102, 103]
    assert [(r.table, r.type, r.dev) for r in rows if r.dst.startswith("192.0.2.")] == [
        ("1000", "blackhole", "9"), ("1001", "blackhole", "9"), ("1002", "blackhole", "9")
    ]


def test_each_message_alone_gives_the_same_rows():
    """Decoded one by one, no message can take the fast path: the slow path agrees."""
    (first, second) = _dump()
    whole = nr.decode_routes([first, second], NAMES)
    one_by_one = []
    for chunk in (first, second):
        offset = 0
        while offset < len(chunk):
            (length,) = struct.unpack_from("=I", chunk, offset)
            one_by_one += nr.decode_routes([chunk[offset : offset + length] + DONE], NAMES)
            offset += length
    assert whole == one_by_one


def test_a_dump_that_changed_under_it_is_noticed_on_the_fast_path_too():
    interrupted = _route(_u32(words.RTA_TABLE, 254), _attr(words.RTA_DST, _v4("198.18.9.0")),
                         _attr(words.RTA_GATEWAY, _v4("198.18.0.2")), _u32(words.RTA_OIF, 2),
                         flags=NLM_F_MULTI | NLM_F_DUMP_INTR)
    chunk = b"".join(via_gateway(n) for n in range(3)) + interrupted + DONE
    with pytest.raises(DumpInterrupted):
        nr.decode_routes([chunk], NAMES)


def test_route_row_is_a_route_row():
    """The fast constructor skips the frozen dataclass's __init__, nothing else."""
    header = ("main", "unicast", "static", "universe", "inet")
    fast = nr._route_row("198.18.0.0/24", header, "198.18.0.2", "br0", "", 5)
    slow = RouteRow("198.18.0.0/24", "main", "unicast", "198.18.0.2", "br0", "", "static",
                    "universe", 5, "inet")
    assert type(fast) is RouteRow
    assert fast == slow and hash(fast) == hash(slow)
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    assert list(vars(fast)) == [f.name for f in dataclasses.fields(RouteRow)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.dst = "changed"  # type: ignore[misc]
