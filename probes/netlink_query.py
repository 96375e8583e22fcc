"""Netlink through pyroute2, inside a vantage's namespace: sockets, requests, errors.

Everything here is meant to be called through :func:`~.nsexec.call_in`, so the
sockets it opens belong to the vantage's network namespace: pyroute2's
``IPRoute`` is created in the thread that entered it. Not ``IPRoute(netns=...)``:
that forks a child to open the socket and, by default, *creates* a namespace
that does not exist, where a probe must say it is missing (``call_in`` does).
Nothing is kept open between probes: a probe is short and the engine runs many
at once, each in its own thread.

pyroute2 is imported on first use, never at import time, so the command line
starts without it. Its errors (and the socket's) become the probes' own
:class:`~.errors.NetlinkError`, naming what was asked.

The three big dumps (links, routes, neighbours) are still sent by pyroute2, on
its plain ``IPRSocket``, but their datagrams are read by the lean decoders of
:mod:`.netlink_decode`: ``vnetdoctor bench netlink`` shows pyroute2's generic
message classes 10-30 times slower there, far off the targets.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from .errors import NetlinkError
from .netlink_decode import DecodedLink, decode_links
from .netlink_rows import lookup_refusal, route_reply_row
from .netlink_wire import AF_UNSPEC, NLMSG_HEADER, DumpInterrupted, raise_for_control
from .rows import RouteLookupRow

T = TypeVar("T")

_DUMP_ATTEMPTS = 3
# One datagram of a dump is at most ~32 KiB (the kernel caps its dump skbs there);
# a bigger buffer costs nothing and lets MSG_TRUNC mean "really truncated".
_RECV_BUFSIZE = 1 << 20

# The dumps the lean decoders read: (rtnetlink request type, pyroute2 message class).
LINKS = (18, "ifinfmsg")  # RTM_GETLINK
ROUTES = (26, "rtmsg")  # RTM_GETROUTE
NEIGHBOURS = (30, "ndmsg")  # RTM_GETNEIGH
ADDRESSES = (22, "ifaddrmsg")  # RTM_GETADDR (pyroute2 decodes these; raw only for recordings)
RTEXT_FILTER_BRVLAN = 2  # IFLA_EXT_MASK bit asking a bridge-family link dump for VLANs


@contextmanager
def netlink_errors(what: str) -> Iterator[None]:
    """pyroute2's and the socket's exceptions as one :class:`NetlinkError` naming ``what``."""
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted
    from pyroute2.netlink.exceptions import NetlinkError as Pyroute2Error

    try:
        yield
    except NetlinkDumpInterrupted:  # a subclass of pyroute2's NetlinkError (code -1): first
        raise NetlinkError(errno.EAGAIN, f"{what}: the dump kept changing; try again") from None
    except Pyroute2Error as exc:
        raise NetlinkError(exc.code, f"{what}: {os.strerror(exc.code)}") from None
    except OSError as exc:
        code = exc.errno or errno.EIO
        raise NetlinkError(code, f"{what}: {exc.strerror or os.strerror(code)}") from None


def off_event_loop(fn: Callable[[], T]) -> T:
    """Run ``fn`` in this thread, or in a fresh one when this thread runs an asyncio loop.

    pyroute2's synchronous API drives an event loop of its own with
    ``run_until_complete``, which a thread already running one (the TUI's) cannot
    do. A new thread starts in the namespace of the thread that creates it.
    asyncio is not imported for the question: a process that has not loaded it (the
    CLI) runs no loop, and importing it would cost the start-up path ~15 ms. Nor is
    it trusted to be whole: another probe thread may be importing it right now
    (pyroute2 does), and a module still being imported runs no loop either.
    """
    get_running_loop = getattr(sys.modules.get("asyncio"), "get_running_loop", None)
    if get_running_loop is None:
        return fn()
    try:
        get_running_loop()
    except RuntimeError:
        return fn()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="pyroute2", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def with_rtnl(what: str, fn: Callable[..., T], *args: object) -> T:
    """``fn(ipr, *args)`` with pyroute2's ``IPRoute`` on a socket of this thread's namespace."""

    def run() -> T:
        from pyroute2 import IPRoute

        with netlink_errors(what):
            # groups=0: answers to our requests only, no multicast events queued behind them.
            with IPRoute(groups=0) as ipr:
                return fn(ipr, *args)

    return off_event_loop(run)


def interface_names() -> dict[int, str]:
    """ifindex -> name in this namespace (glibc's own netlink dump; fast)."""
    return {index: name for index, name in socket.if_nameindex()}


def interface_index(name: str) -> int:
    """The ifindex of ``name`` here, or a :class:`NetlinkError` saying it does not exist."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        raise NetlinkError(errno.ENODEV, f"no interface named {name!r} in this namespace") from None


# ------------------------------------------------------------------ lean dumps on pyroute2's socket


def _request(kind: tuple[int, str], family: int, ext_mask: int = 0) -> Any:
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
    from pyroute2.netlink.rtnl.ndmsg import ndmsg
    from pyroute2.netlink.rtnl.rtmsg import rtmsg

    classes = {"ifinfmsg": ifinfmsg, "rtmsg": rtmsg, "ndmsg": ndmsg, "ifaddrmsg": ifaddrmsg}
    msg = classes[kind[1]]()
    msg["family"] = family
    if ext_mask:
        msg["attrs"] = [("IFLA_EXT_MASK", ext_mask)]
    return msg


@contextmanager
def _dump(kind: tuple[int, str], family: int, ext_mask: int = 0) -> Iterator[Iterator[bytes]]:
    """Send one dump request on a fresh pyroute2 ``IPRSocket``; yield its raw datagrams."""
    from pyroute2 import IPRSocket
    from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST

    with IPRSocket(groups=0) as sock:
        sock.put(_request(kind, family, ext_mask), kind[0], NLM_F_REQUEST | NLM_F_DUMP)
        yield _datagrams(sock.socket)


def _datagrams(sock: socket.socket) -> Iterator[bytes]:
    """Each datagram of the reply, received into one buffer reused for the whole dump.

    ``recvmsg(1 MiB)`` would allocate (and, for a block that size, map and unmap) a
    fresh megabyte per ~32 KiB datagram: a sixth of a 2,000-link dump's time
    (``bench netlink``). Copying out what arrived costs a memcpy.
    """
    buf = bytearray(_RECV_BUFSIZE)
    view = memoryview(buf)
    while True:
        size, _anc, msg_flags, _addr = sock.recvmsg_into([view])
        if msg_flags & socket.MSG_TRUNC:
            raise NetlinkError(errno.EMSGSIZE, "netlink datagram larger than the receive buffer")
        yield bytes(view[:size])


def lean_dump(
    kind: tuple[int, str], decoder: Callable[..., T], *args: object, family: int = AF_UNSPEC
) -> T:
    """One big dump, decoded by a lean decoder as it arrives; again if the kernel says it changed.

    The decoder stops at NLMSG_DONE, so the socket is never read past the reply.
    """
    what = f"netlink dump {kind[1]}"

    def run() -> T:
        for _attempt in range(_DUMP_ATTEMPTS):
            with netlink_errors(what), _dump(kind, family) as datagrams:
                try:
                    return decoder(datagrams, *args)
                except DumpInterrupted:
                    continue  # a fresh socket: the old one still holds the rest of that dump
        raise NetlinkError(errno.EAGAIN, f"{what}: the dump kept changing; try again")

    return off_event_loop(run)


def dump_raw(kind: tuple[int, str], family: int = AF_UNSPEC, ext_mask: int = 0) -> list[bytes]:
    """The datagrams of one dump, undecoded (recording test data; decoding it twice in tests)."""

    def run() -> list[bytes]:
        out: list[bytes] = []
        what = f"netlink dump {kind[1]}"
        with netlink_errors(what), _dump(kind, family, ext_mask) as datagrams:
            for chunk in datagrams:
                out.append(chunk)
                if _ends(chunk):
                    return out
        return out  # pragma: no cover - the generator never ends by itself

    return off_event_loop(run)


def _ends(chunk: bytes) -> bool:
    offset = 0
    while offset + 16 <= len(chunk):
        length, mtype, mflags, _seq, _pid = NLMSG_HEADER.unpack_from(chunk, offset)
        if length < 16:
            break
        if mtype in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
            return raise_for_control(chunk, offset, mtype, mflags)
        offset += (length + 3) & ~3
    return False


def link_dump() -> list[DecodedLink]:
    return lean_dump(LINKS, decode_links)


# ------------------------------------------------------------------ ethtool


def ethtool_drivers(names: Iterable[str]) -> dict[str, str]:
    """Driver name per interface (ETHTOOL_GDRVINFO) through pyroute2's ethtool ioctl layer.

    pyroute2 0.9 has the SIOCETHTOOL socket, request and error types but no
    driver-info command (neither has the kernel's ethtool netlink), so the
    ``ethtool_drvinfo`` struct is ours. Interfaces whose driver does not answer
    (``lo``) or that vanished since the dump are left out, so the caller falls
    back to the link kind.
    """
    from .netlink_ethtool import driver_names

    return driver_names(names)


# ------------------------------------------------------------------ one route lookup

RTM_F_LOOKUP_TABLE = 0x1000  # report the table the FIB lookup matched, as ``ip route get`` does


def route_get(dst: str, src: str | None = None, iif: str | None = None) -> RouteLookupRow:
    """Ask the kernel which route it would use for ``dst`` (RTM_GETROUTE, not a dump).

    A refusal (no route, an unreachable/blackhole/prohibit route) is an answer,
    not a failure: it becomes a row whose type says which and whose ``error``
    carries the kernel's words. An ``iif`` that does not exist here is a
    :class:`NetlinkError` (the question itself is wrong).
    """
    target = ipaddress.ip_address(dst)
    source = ipaddress.ip_address(src) if src else None
    if source is not None and source.version != target.version:
        raise ValueError(f"src {src} and dst {dst} are not the same IP version")
    request: dict[str, Any] = {"dst": str(target), "flags": RTM_F_LOOKUP_TABLE}
    if source is not None:
        request["src"] = str(source)
    if iif:
        request["iif"] = interface_index(iif)
    from pyroute2.netlink.exceptions import NetlinkError as Pyroute2Error

    def ask(ipr: Any) -> RouteLookupRow:
        try:
            answer = ipr.route("get", **request)
        except Pyroute2Error as exc:
            message = os.strerror(exc.code)
            if iif and exc.code == errno.EHOSTUNREACH and _forwarding_off(iif, target.version):
                # An input lookup for a destination this host would have to forward
                # fails the same way as an "unreachable" route: say which it is.
                message += f" (net.ipv4.conf.{iif}.forwarding=0: this host does not forward)"
            return lookup_refusal(str(target), exc.code, message)
        return route_reply_row(answer, str(target), _IndexNames(), str(source) if source else None)

    return with_rtnl(f"route lookup {target}", ask)


def _forwarding_off(iif: str, version: int) -> bool:
    """Whether IPv4 forwarding is off on ``iif`` (read in the calling thread's namespace)."""
    if version != 4:
        return False
    try:
        with open(f"/proc/sys/net/ipv4/conf/{iif}/forwarding", encoding="ascii") as fh:
            return fh.read().strip() == "0"
    except OSError:
        return False


class _IndexNames(Mapping[int, str]):
    """An ifindex -> name mapping that asks the kernel only for the indexes used."""

    def __getitem__(self, index: int) -> str:
        try:
            return socket.if_indextoname(index)
        except OSError:
            raise KeyError(index) from None

    def __iter__(self) -> Iterator[int]:  # pragma: no cover - not needed by the rows
        return iter(interface_names())

    def __len__(self) -> int:  # pragma: no cover
        return len(interface_names())
