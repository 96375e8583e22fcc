"""The IPv4 subnets a vantage is connected to, read before the walk starts, without pyroute2.

Every entry point checks the target against the sender's subnets before any packet
is sent, so this read sits on the path from start-up to the first probe. The
``addr.list`` probe (pyroute2's address dump) would import pyroute2 there, and that
import alone costs 100-150 ms of the 0.5 s budget ``vnetdoctor bench netlink``
holds the CLI to. One RTM_GETADDR dump for IPv4 on a plain netlink socket, read with
the lean wire helpers, needs only the standard library; pyroute2 then loads with
the walk's first netlink probe, off that path. Only what the check needs is read:
each IPv4 address's prefix and interface.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterator

from .errors import NetlinkError
from .netlink_wire import DumpInterrupted, attrs, messages_of
from .nsexec import call_in
from .target_kind import ConnectedSubnet
from .vantage import Vantage

RTM_NEWADDR, RTM_GETADDR = 20, 22
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
RT_SCOPE_HOST = 254
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_REQUEST = struct.pack("=IHHII", 16 + _IFADDRMSG.size, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + \
    _IFADDRMSG.pack(socket.AF_INET, 0, 0, 0, 0)
_ATTEMPTS = 3


def _datagrams(sock: socket.socket) -> Iterator[bytes]:
    while True:
        yield sock.recv(1 << 16)


def ipv4_subnets_here() -> list[tuple[ipaddress.IPv4Network, str]]:
    """(subnet, interface) for each IPv4 address of this thread's namespace, host scope left out."""
    for _attempt in range(_ATTEMPTS):
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
            sock.bind((0, 0))
            sock.send(_REQUEST)
            try:
                return _decode(_datagrams(sock))
            except DumpInterrupted:
                continue  # the addresses changed during the dump: ask again on a fresh socket
    raise NetlinkError(11, "netlink address dump: the dump kept changing; try again")


def _decode(chunks: Iterator[bytes]) -> list[tuple[ipaddress.IPv4Network, str]]:
    out = []
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWADDR):
        family, prefixlen, _f, scope, index = _IFADDRMSG.unpack_from(buf, start)
        if family != socket.AF_INET or scope == RT_SCOPE_HOST:
            continue
        found = attrs(buf, start + _IFADDRMSG.size, end)
        span = found.get(IFA_LOCAL) or found.get(IFA_ADDRESS)  # IFA_ADDRESS is the peer on p2p links
        if span is None or span[1] - span[0] != 4:
            continue
        address = ipaddress.IPv4Address(buf[span[0] : span[1]])
        out.append((ipaddress.IPv4Interface(f"{address}/{prefixlen}").network, _ifname(index)))
    return out


def _ifname(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except OSError:
        return str(index)  # gone since the dump: the number still says which


def connected_subnets(vantage: Vantage) -> list[ConnectedSubnet]:
    """The vantage's IPv4 subnets; [] when they cannot be read here (no privilege, no such namespace).

    Local and network-namespace vantages only: a libvirt guest is not asked (a
    guest-agent round trip before the walk starts is slow, and the agent may be absent).
    """
    if vantage.kind not in ("local", "netns"):
        return []
    try:
        found = call_in(vantage, ipv4_subnets_here)
    except (OSError, NetlinkError, ValueError):
        return []  # NamespaceError is an OSError, VantageError a ValueError: not compared with
    return [ConnectedSubnet(net, dev, str(vantage)) for net, dev in found]
