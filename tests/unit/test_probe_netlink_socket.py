"""Netlink framing: kernel errors, interrupted dumps, the route shape cache, the live socket."""

from __future__ import annotations

import errno
import socket
import struct

import pytest
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.netlink_socket import (
    NLM_F_DUMP_INTR,
    NLM_F_MULTI,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSGHDR,
    RTM_GETLINK,
    RTM_NEWROUTE,
    DumpInterrupted,
    NetlinkError,
    RtnlSocket,
    attr,
    ifinfomsg,
    raise_for_control,
)
from vnetdoctor.probes.rows import RouteRow


def msg(msg_type: int, body: bytes, flags: int = NLM_F_MULTI) -> bytes:
    data = NLMSGHDR.pack(16 + len(body), msg_type, flags, 1, 0) + body
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


def test_dump_decoded_retries_an_interrupted_dump(monkeypatch):
    answers = [
        [route("198.18.0.0", 24, [], flags=NLM_F_MULTI | NLM_F_DUMP_INTR)],
        [route("198.18.1.0", 24, [(4, u32(3))]) + done()],
    ]
    opened = []

    class FakeSocket:
        def __init__(self):
            opened.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def dump_chunks(self, msg_type, body):
            yield from answers.pop(0)

    monkeypatch.setattr(nq, "RtnlSocket", FakeSocket)
    rows = nq.dump_decoded(26, bytes(12), nd.decode_routes, NAMES)
    assert [r.dst for r in rows] == ["198.18.1.0/24"] and len(opened) == 2


def test_dump_decoded_gives_up_when_the_table_keeps_changing(monkeypatch):
    class AlwaysInterrupted:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def dump_chunks(self, msg_type, body):
            yield route("198.18.0.0", 24, [], flags=NLM_F_MULTI | NLM_F_DUMP_INTR)

    monkeypatch.setattr(nq, "RtnlSocket", AlwaysInterrupted)
    with pytest.raises(NetlinkError, match="kept changing"):
        nq.dump_decoded(26, bytes(12), nd.decode_routes, NAMES)


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


def test_live_link_dump_of_this_namespace():
    with RtnlSocket() as sock:
        datagrams = sock.dump_raw(RTM_GETLINK, ifinfomsg())
    links = nd.decode_links(datagrams)
    assert links and any(link.kind == "loopback" for link in links)
    assert {link.ifindex: link.name for link in links} == nq.interface_names()


def test_live_request_error_carries_errno():
    # An RTM_GETROUTE with a bogus family: the kernel refuses it.
    body = struct.pack("=BBBBBBBBI", 255, 0, 0, 0, 0, 0, 0, 0, 0)
    with RtnlSocket() as sock, pytest.raises(NetlinkError) as info:
        sock.request(26, body)
    assert info.value.errno in (errno.EAFNOSUPPORT, errno.EINVAL, errno.EOPNOTSUPP)


def test_route_get_request_validates_its_input():
    target, body = nq.route_get_request("198.18.0.1", "198.18.0.2", 3)
    assert target == "198.18.0.1" and len(body) == 12 + 8 + 8 + 8
    with pytest.raises(ValueError):
        nq.route_get_request("not an address")
    with pytest.raises(ValueError, match="same IP version"):
        nq.route_get_request("198.18.0.1", "::1")
