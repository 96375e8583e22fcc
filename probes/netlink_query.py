"""Queries that run *inside* a vantage's namespace: dump, decode, close.

Everything here is meant to be called through :func:`~.nsexec.call_in`, so the
sockets it opens (netlink, and the ethtool ioctl socket) belong to the vantage's
network namespace. Nothing is kept open between probes: a probe is short and the
engine runs many at once, each in its own thread.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import ipaddress
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from .netlink_decode import DecodedLink, decode_links, decode_route_reply
from .netlink_socket import (
    AF_BRIDGE,
    AF_UNSPEC,
    IFLA_EXT_MASK,
    RTEXT_FILTER_BRVLAN,
    RTM_GETLINK,
    RTM_GETROUTE,
    DumpInterrupted,
    NetlinkError,
    RtnlSocket,
    attr,
    ifinfomsg,
    u32_attr,
)
from .rows import RouteLookupRow

T = TypeVar("T")

_DUMP_ATTEMPTS = 3

# linux/sockios.h, linux/ethtool.h
SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO = 0x3
_DRVINFO_SIZE = 196
_IFREQ = struct.Struct("16sP16x")  # ifr_name, ifr_data, the rest of the 40-byte union

# rtmsg flags (linux/rtnetlink.h)
RTM_F_LOOKUP_TABLE = 0x1000
RTA_DST = 1
RTA_SRC = 2
RTA_IIF = 3
_RTMSG = struct.Struct("=BBBBBBBBI")

# What the kernel's FIB answers for each route type it refuses to forward on
# (fib_props in net/ipv4/fib_semantics.c): errno -> the route type behind it.
_LOOKUP_ERRNO_TYPES = {
    errno.ENETUNREACH: "unreachable",  # no route at all
    errno.EHOSTUNREACH: "unreachable",  # an "unreachable" route
    errno.EINVAL: "blackhole",
    errno.EACCES: "prohibit",
}


def dump_decoded(msg_type: int, body: bytes, decoder: Callable[..., T], *args: object) -> T:
    """Run one dump and decode it as it arrives; retry when the kernel says it changed."""
    for _attempt in range(_DUMP_ATTEMPTS):
        with RtnlSocket() as sock:
            try:
                return decoder(sock.dump_chunks(msg_type, body), *args)
            except DumpInterrupted:
                continue  # a fresh socket: the old one still holds the rest of that dump
    raise NetlinkError(errno.EAGAIN, "netlink dump kept changing; try again")


def dump_raw(msg_type: int, body: bytes) -> list[bytes]:
    """The datagrams of one dump, undecoded (for recording test data)."""
    with RtnlSocket() as sock:
        return sock.dump_raw(msg_type, body)


def interface_names() -> dict[int, str]:
    """ifindex -> name in this namespace (glibc's own netlink dump; fast)."""
    return {index: name for index, name in socket.if_nameindex()}


def link_dump() -> list[DecodedLink]:
    return dump_decoded(RTM_GETLINK, ifinfomsg(AF_UNSPEC), decode_links)


def bridge_link_request(with_vlans: bool = False) -> bytes:
    """The AF_BRIDGE RTM_GETLINK request ``bridge link`` / ``bridge vlan`` send."""
    body = ifinfomsg(AF_BRIDGE)
    if with_vlans:
        body += u32_attr(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN)
    return body


def ethtool_drivers(names: Iterable[str]) -> dict[str, str]:
    """Driver name per interface from the ETHTOOL_GDRVINFO ioctl (no capability needed).

    Interfaces whose driver does not implement it (``lo``) are left out, so the
    caller falls back to the link kind.
    """
    out: dict[str, str] = {}
    info = ctypes.create_string_buffer(_DRVINFO_SIZE)
    address = ctypes.addressof(info)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        fd = sock.fileno()
        for name in names:
            encoded = name.encode()
            if len(encoded) > 15:
                continue
            ctypes.memset(info, 0, _DRVINFO_SIZE)
            struct.pack_into("=I", info, 0, ETHTOOL_GDRVINFO)
            try:
                fcntl.ioctl(fd, SIOCETHTOOL, _IFREQ.pack(encoded, address))
            except OSError:
                continue
            driver = info.raw[4:36].split(b"\0", 1)[0].decode("ascii", "replace")
            if driver:
                out[name] = driver
    return out


def route_get_request(
    dst: str, src: str | None = None, iif_index: int | None = None
) -> tuple[str, bytes]:
    """(the destination as text, the RTM_GETROUTE body ``ip route get`` would send)."""
    target = ipaddress.ip_address(dst)
    family = socket.AF_INET if target.version == 4 else socket.AF_INET6
    host_len = 32 if family == socket.AF_INET else 128
    src_len = 0
    body_attrs = attr(RTA_DST, target.packed)
    if src:
        source = ipaddress.ip_address(src)
        if source.version != target.version:
            raise ValueError(f"src {src} and dst {dst} are not the same IP version")
        body_attrs += attr(RTA_SRC, source.packed)
        src_len = host_len
    if iif_index:
        body_attrs += u32_attr(RTA_IIF, iif_index)
    header = _RTMSG.pack(family, host_len, src_len, 0, 0, 0, 0, 0, RTM_F_LOOKUP_TABLE)
    return str(target), header + body_attrs


def lookup_refusal(dst: str, code: int, message: str) -> RouteLookupRow:
    """The row for a lookup the kernel refused: the errno says which route type refused it."""
    return RouteLookupRow(dst=dst, type=_LOOKUP_ERRNO_TYPES.get(code, "error"), error=message)


def route_get(dst: str, src: str | None = None, iif: str | None = None) -> RouteLookupRow:
    """Ask the kernel which route it would use for ``dst`` (RTM_GETROUTE, not a dump).

    A refusal (no route, an unreachable/blackhole/prohibit route) is an answer,
    not a failure: it becomes a row whose type says which and whose ``error``
    carries the kernel's words.
    """
    iif_index = socket.if_nametoindex(iif) if iif else None
    target, body = route_get_request(dst, src, iif_index)
    with RtnlSocket() as sock:
        try:
            chunk = sock.request(RTM_GETROUTE, body)
        except NetlinkError as exc:
            message = exc.strerror or str(exc)
            if iif and exc.errno == errno.EHOSTUNREACH and _forwarding_off(iif, target):
                # An input lookup for a destination this host would have to forward
                # fails the same way as an "unreachable" route: say which it is.
                message += f" (net.ipv4.conf.{iif}.forwarding=0: this host does not forward)"
            return lookup_refusal(target, exc.errno or 0, message)
    return decode_route_reply(
        chunk, target, _NameLookup(), str(ipaddress.ip_address(src)) if src else None
    )


def _forwarding_off(iif: str, target: str) -> bool:
    """Whether IPv4 forwarding is off on ``iif`` (read in the calling thread's namespace)."""
    if ":" in target:
        return False
    try:
        with open(f"/proc/sys/net/ipv4/conf/{iif}/forwarding", encoding="ascii") as fh:
            return fh.read().strip() == "0"
    except OSError:
        return False


class _NameLookup(Mapping[int, str]):
    """An ifindex -> name mapping that asks the kernel only for the indexes used."""

    def __getitem__(self, index: int) -> str:
        try:
            return socket.if_indextoname(index)
        except OSError:
            raise KeyError(index) from None

    def get(self, index: int, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[index]
        except KeyError:
            return default

    def __iter__(self):  # pragma: no cover - not needed by the decoders
        return iter(interface_names())

    def __len__(self) -> int:  # pragma: no cover
        return len(interface_names())
