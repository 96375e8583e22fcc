"""A bare rtnetlink socket: send one request, hand back the kernel's datagrams untouched.

Why not pyroute2 here: decoding a 100,000-route dump with pyroute2's generic
message classes took about 70 times as long as ``ip -j route``. This module does
no decoding at all: it frames requests, reads replies and stops. The decoders in
:mod:`.netlink_decode` walk the datagrams once, pick out only the attributes a
row needs with ``struct``, and notice the end of the dump themselves, so no
message is looked at twice.

The socket belongs to the network namespace of the thread that creates it, so
probes open it inside :func:`~.nsexec.call_in` and close it before returning.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator
from typing import Self

NETLINK_ROUTE = 0

# nlmsghdr and flags (linux/netlink.h)
NLMSGHDR = struct.Struct("=IHHII")
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH

# rtnetlink message types (linux/rtnetlink.h)
RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
RTM_NEWNEIGH = 28
RTM_GETNEIGH = 30

AF_UNSPEC = 0
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
AF_BRIDGE = 7

IFLA_EXT_MASK = 29
RTEXT_FILTER_BRVLAN = 2

# One datagram of a dump is at most ~32 KiB (the kernel caps its dump skbs there);
# a bigger buffer costs nothing and lets MSG_TRUNC mean "really truncated".
_RECV_BUFSIZE = 1 << 20
_DUMP_RETRIES = 3

IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
RTGENMSG = struct.Struct("=Bxxx")
NLATTR_U32 = struct.Struct("=HHI")


class NetlinkError(OSError):
    """The kernel answered a request with an error (``errno`` carries it)."""


class DumpInterrupted(Exception):
    """The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR): read it again."""


def ifinfomsg(family: int = AF_UNSPEC, index: int = 0) -> bytes:
    return IFINFOMSG.pack(family, 0, index, 0, 0)


def u32_attr(attr_type: int, value: int) -> bytes:
    return NLATTR_U32.pack(8, attr_type, value)


def attr(attr_type: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack("=HH", length, attr_type) + payload + b"\0" * ((4 - length % 4) % 4)


def raise_for_control(chunk: bytes, offset: int, msg_type: int, flags: int) -> bool:
    """Handle a control message met while decoding; True means the reply is complete.

    Decoders call this only for message types they do not decode, so the common
    path stays a single integer comparison per message.
    """
    if msg_type == NLMSG_DONE:
        if len(chunk) >= offset + 20:
            (code,) = struct.unpack_from("=i", chunk, offset + 16)
            if code < 0:
                raise NetlinkError(-code, os.strerror(-code))
        return True
    if msg_type == NLMSG_ERROR:
        (code,) = struct.unpack_from("=i", chunk, offset + 16)
        if code < 0:
            raise NetlinkError(-code, os.strerror(-code))
        return True  # an ACK
    if flags & NLM_F_DUMP_INTR:
        raise DumpInterrupted()
    return False


class RtnlSocket:
    """A NETLINK_ROUTE socket in the calling thread's network namespace."""

    def __init__(self) -> None:
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE
        )
        try:
            self._sock.bind((0, 0))
        except OSError:
            self._sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, msg_type: int, flags: int, body: bytes) -> int:
        self._seq += 1
        header = NLMSGHDR.pack(NLMSGHDR.size + len(body), msg_type, flags, self._seq, 0)
        self._sock.send(header + body)
        return self._seq

    def _recv(self) -> bytes:
        data, _anc, msg_flags, _addr = self._sock.recvmsg(_RECV_BUFSIZE)
        if msg_flags & socket.MSG_TRUNC:
            raise NetlinkError(errno.EMSGSIZE, "netlink datagram larger than the receive buffer")
        return data

    def dump_chunks(self, msg_type: int, body: bytes) -> Iterator[bytes]:
        """Send a dump request and yield the raw datagrams as they arrive.

        The generator never looks inside them: the consumer decodes each one and
        stops iterating when it meets NLMSG_DONE. A consumer that stops early
        must not reuse the socket (unread replies stay queued).
        """
        self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, body)
        while True:
            yield self._recv()

    def dump_raw(self, msg_type: int, body: bytes) -> list[bytes]:
        """The whole dump as a list of datagrams, ending with the one holding NLMSG_DONE.

        Used where the decoding happens later (recording test data, small
        dumps); the hot paths decode straight from :meth:`dump_chunks`.
        """
        for _attempt in range(_DUMP_RETRIES):
            chunks: list[bytes] = []
            try:
                for chunk in self.dump_chunks(msg_type, body):
                    chunks.append(chunk)
                    if _scan_for_end(chunk):
                        return chunks
            except DumpInterrupted:
                self._drain()
                continue
        raise NetlinkError(errno.EAGAIN, "netlink dump kept changing under us")

    def request(self, msg_type: int, body: bytes, flags: int = 0) -> bytes:
        """A single request/answer exchange (``RTM_GETROUTE`` for one address).

        Returns the datagram holding the answer; a kernel error raises
        :class:`NetlinkError` with its errno.
        """
        seq = self._send(msg_type, NLM_F_REQUEST | flags, body)
        while True:
            chunk = self._recv()
            _length, mtype, mflags, mseq, _pid = NLMSGHDR.unpack_from(chunk, 0)
            if mseq != seq:
                continue  # a late answer to something else
            if mtype == NLMSG_ERROR:
                raise_for_control(chunk, 0, mtype, mflags)
            return chunk

    def _drain(self) -> None:
        """Throw away what is left of an abandoned dump before asking again."""
        self._sock.setblocking(False)
        try:
            while True:
                try:
                    chunk = self._sock.recv(_RECV_BUFSIZE)
                except BlockingIOError:
                    return
                if _scan_for_end(chunk, check_intr=False):
                    return
        finally:
            self._sock.setblocking(True)


def _scan_for_end(chunk: bytes, check_intr: bool = True) -> bool:
    """Walk one datagram's headers: True at NLMSG_DONE, raise on errors/interruption."""
    offset = 0
    size = len(chunk)
    unpack = NLMSGHDR.unpack_from
    while offset + 16 <= size:
        length, mtype, mflags, _seq, _pid = unpack(chunk, offset)
        if length < 16:
            break
        if mtype == NLMSG_DONE or mtype == NLMSG_ERROR:
            return raise_for_control(chunk, offset, mtype, mflags)
        if check_intr and mflags & NLM_F_DUMP_INTR:
            raise DumpInterrupted()
        offset += (length + 3) & ~3
    return False
