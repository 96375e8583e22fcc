"""Netlink framing for the lean decoders: kernel errors, interrupted dumps, the route shape
cache; and the live pyroute2 socket they read from."""

from __future__ import annotations

import errno
import socket
import struct
import sys

import pytest
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.errors import NetlinkError
from vnetdoctor.probes.netlink_wire import (
    NLM_F_DUMP_INTR,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HEADER,
    RTM_NEWROUTE,
    DumpInterrupted,
    raise_for_control,
)
from vnetdoctor.probes.rows import RouteRow

NLM_F_MULTI = 0x02


def attr(attr_type: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, attr_type) + payload + b"\0" * ((4 - length % 4) % 4)


def msg(msg_type: int, body: bytes, flags: int = NLM_F_MULTI) -> bytes:
    data = NLMSG_HEADER.pack(16 + len(body), msg_type, flags, 1, 0) + body
    return data + b"\0" * ((4 - len(data) % 4) % 4)


def done(code: int = 0) -> bytes:
    return msg(NLMSG_DONE, struct.pack("=i", code))


def error(code: int) -> bytes:
    return msg(NLMSG_ERROR, struct.pack("=i", code) + bytes(16), flags=0)


def route(dst: str, plen: int, attrs: list[tuple[int, bytes]], flags: int = NLM_F_MULTI) -> bytes:
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, plen, 0, 0, 254, 3, 0, 1, 0)
    body += attr(1, socket.inet_aton(dst))
    for attr_type, payload in attrs:
        body += attr(attr_type, payload)
    return msg(RTM_NEWROUTE, body, flags)


def u32(value: int) -> bytes:
    return struct.pack("=I", value)


def ip(text: str) -> bytes:
    return socket.inet_aton(text)


NAMES = {2: "eth0", 3: "eth1"}


def test_kernel_error_in_a_dump_raises_with_its_errno():
    with pytest.raises(NetlinkError) as info:
        nd.decode_routes([error(-errno.EPERM)], NAMES)
    assert info.value.errno == errno.EPERM
    with pytest.raises(NetlinkError):
        nd.decode_routes([done(-errno.EBUSY)], NAMES)


def test_ack_and_done_end_the_reply():
    assert raise_for_control(error(0), 0, NLMSG_ERROR, 0) is True
    assert nd.decode_routes(
        [route("198.18.0.0", 24, [(4, u32(2))]) + done(), route("198.18.9.0", 24, [])], NAMES
    ) == [
        RouteRow("198.18.0.0/24", "main", "unicast", "", "eth0", "", "boot", "universe", 0, "inet")
    ]


def test_interrupted_dump_is_reported():
    with pytest.raises(DumpInterrupted):
        nd.decode_routes([route("198.18.0.0", 24, [], flags=NLM_F_MULTI | NLM_F_DUMP_INTR)], NAMES)


def _fake_dumps(monkeypatch, answers) -> list[object]:
    """Replace pyroute2's socket by canned datagrams, one list per socket opened."""
    from contextlib import contextmanager

    opened: list[object] = []

    @contextmanager
    def fake_dump(kind, family):
        opened.append(kind)
        yield iter(answers.pop(0) if isinstance(answers, list) else answers())

    monkeypatch.setattr(nq, "_dump", fake_dump)
    return opened


def test_lean_dump_retries_an_interrupted_dump_on_a_fresh_socket(monkeypatch):
    answers = [
        [route("198.18.0.0", 24, [], flags=NLM_F_MULTI | NLM_F_DUMP_INTR)],
        [route("198.18.1.0", 24, [(4, u32(3))]) + done()],
    ]
    opened = _fake_dumps(monkeypatch, answers)
    rows = nq.lean_dump(nq.ROUTES, nd.decode_routes, NAMES)
    assert [r.dst for r in rows] == ["198.18.1.0/24"] and len(opened) == 2


def test_lean_dump_gives_up_when_the_table_keeps_changing(monkeypatch):
    opened = _fake_dumps(
        monkeypatch, lambda: [route("198.18.0.0", 24, [], flags=NLM_F_MULTI | NLM_F_DUMP_INTR)]
    )
    with pytest.raises(NetlinkError, match="kept changing") as info:
        nq.lean_dump(nq.ROUTES, nd.decode_routes, NAMES)
    assert info.value.errno == errno.EAGAIN and len(opened) == 3


def test_a_kernel_error_in_a_lean_dump_is_the_probes_error(monkeypatch):
    _fake_dumps(monkeypatch, [[error(-errno.EPERM)]])
    with pytest.raises(NetlinkError, match="Operation not permitted") as info:
        nq.lean_dump(nq.ROUTES, nd.decode_routes, NAMES)
    assert info.value.errno == errno.EPERM


def test_shape_cache_reads_same_length_messages_with_other_layouts_correctly():
    # Same length, different attribute order and types: a gateway route, then a
    # prefsrc route, then a metric route. The cache must notice every difference.
    gw = route("198.18.0.0", 24, [(15, u32(254)), (5, ip("198.18.9.1")), (4, u32(2))])
    src = route("198.18.1.0", 24, [(15, u32(254)), (7, ip("198.18.9.2")), (4, u32(3))])
    metric = route("198.18.2.0", 24, [(15, u32(100)), (6, u32(50)), (4, u32(2))])
    same_as_gw = route("198.18.3.0", 24, [(15, u32(254)), (5, ip("198.18.9.3")), (4, u32(3))])
    assert len(gw) == len(src) == len(metric) == len(same_as_gw)
    rows = nd.decode_routes([gw + src + metric + same_as_gw + gw + done()], NAMES)
    assert [(r.dst, r.table, r.gateway, r.prefsrc, r.dev, r.metric) for r in rows] == [
        ("198.18.0.0/24", "main", "198.18.9.1", "", "eth0", 0),
        ("198.18.1.0/24", "main", "", "198.18.9.2", "eth1", 0),
        ("198.18.2.0/24", "100", "", "", "eth0", 50),
        ("198.18.3.0/24", "main", "198.18.9.3", "", "eth1", 0),
        ("198.18.0.0/24", "main", "198.18.9.1", "", "eth0", 0),
    ]


def test_shape_cache_on_a_run_of_identical_layouts():
    datagram = b"".join(
        route(f"198.18.{i}.0", 24, [(15, u32(254)), (5, ip(f"198.19.0.{i}")), (4, u32(2 + i % 2))])
        for i in range(200)
    )
    rows = nd.decode_routes([datagram, done()], NAMES)
    assert len(rows) == 200
    assert rows[7] == RouteRow(
        "198.18.7.0/24", "main", "unicast", "198.19.0.7", "eth1", "", "boot", "universe", 0, "inet"
    )


def test_live_link_dump_of_this_namespace_on_pyroute2s_socket():
    links = nd.decode_links(nq.dump_raw(nq.LINKS))
    assert links and any(link.kind == "loopback" for link in links)
    assert {link.ifindex: link.name for link in links} == nq.interface_names()
    assert nq.link_dump() == links


def test_live_pyroute2_error_is_the_probes_error_with_its_errno():
    """pyroute2's NetlinkError never escapes: it becomes ours, naming what was asked."""
    with pytest.raises(NetlinkError, match="^link 999999: No such device$") as info:
        nq.with_rtnl("link 999999", lambda ipr: ipr.link("get", index=999999))
    assert info.value.errno == errno.ENODEV


def test_socket_errors_are_the_probes_error_too():
    def broken(ipr):
        raise OSError(errno.ENOBUFS, "No buffer space available")

    with pytest.raises(NetlinkError, match="dump: No buffer space available") as info:
        nq.with_rtnl("dump", broken)
    assert info.value.errno == errno.ENOBUFS


def test_route_get_validates_its_input_before_any_io():
    with pytest.raises(ValueError):
        nq.route_get("not an address")
    with pytest.raises(ValueError, match="same IP version"):
        nq.route_get("198.18.0.1", "::1")


def test_route_get_from_a_missing_interface_names_it():
    with pytest.raises(NetlinkError, match="no interface named 'vnnl-nope'") as info:
        nq.route_get("198.18.0.1", "198.18.0.2", "vnnl-nope")
    assert info.value.errno == errno.ENODEV


def test_pyroute2_runs_off_a_thread_that_has_an_event_loop():
    """The TUI's thread runs asyncio; pyroute2's sync API then gets a thread of its own."""
    import asyncio

    async def inside_a_loop():
        return nq.route_get("127.0.0.1")

    row = asyncio.run(inside_a_loop())
    assert (row.type, row.dev) == ("local", "lo")


def test_pyroute2_is_imported_by_the_first_netlink_query_not_before():
    """Loading every probe (what the engine does at start) leaves pyroute2 out; asking loads it."""
    import subprocess
    import sys

    code = (
        "import sys, vnetdoctor.probes.base as b\n"
        "b.load_all()\n"
        "before = 'pyroute2' in sys.modules\n"
        "from vnetdoctor.probes import netlink_query as nq\n"
        "nq.route_get('127.0.0.1')\n"
        "print(before, 'pyroute2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_off_event_loop_with_asyncio_half_imported_by_another_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """pyroute2 imports asyncio in one probe thread while another asks whether a loop runs:
    the half-imported module (no get_running_loop yet) means no loop, never an error."""
    import types

    from vnetdoctor.probes.netlink_query import off_event_loop

    monkeypatch.setitem(sys.modules, "asyncio", types.ModuleType("asyncio"))
    assert off_event_loop(lambda: "ran here") == "ran here"
    monkeypatch.delitem(sys.modules, "asyncio")
    assert off_event_loop(lambda: "not loaded") == "not loaded"


def test_a_dump_pyroute2_calls_interrupted_says_so_not_unknown_error_minus_one():
    """pyroute2's NetlinkDumpInterrupted is a NetlinkError with code -1: caught as such it
    read "Unknown error -1". It is the kernel saying the dump changed under it."""
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted

    with pytest.raises(NetlinkError) as caught, nq.netlink_errors("netlink address dump"):
        raise NetlinkDumpInterrupted()
    assert caught.value.errno == errno.EAGAIN
    assert str(caught.value) == "netlink address dump: the dump kept changing; try again"
