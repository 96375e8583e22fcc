"""A TCP connect from a vantage: open, closed (RST), filtered (silence) or rejected (ICMP).

The kernel's own connect() tells the cases apart exactly: ECONNREFUSED is an RST,
EHOSTUNREACH/ENETUNREACH/EACCES come from an ICMP error or a local REJECT, and a
timeout is a silent drop. The socket is opened inside the vantage.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import time

from .base import ProbeOutput, Skip, probe
from .caps import NEED_NET_RAW
from .nsexec import call_in
from .rows_active import TcpRow
from .safety import checked_ipv4
from .vantage import Vantage


def _connect(dst: str, port: int, timeout: float) -> TcpRow:
    start = time.perf_counter()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((dst, port))
    except TimeoutError:
        return TcpRow(dst, port, "filtered", None, f"no answer in {timeout:.1f}s")
    except OSError as exc:
        code = exc.errno or 0
        rtt = round((time.perf_counter() - start) * 1000, 3)
        if code == errno.ECONNREFUSED:
            return TcpRow(dst, port, "closed", rtt, "connection refused (RST)")
        if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            return TcpRow(dst, port, "rejected", rtt, os.strerror(code))
        return TcpRow(dst, port, "error", rtt, os.strerror(code))
    finally:
        sock.close()
    return TcpRow(dst, port, "open", round((time.perf_counter() - start) * 1000, 3))


@probe("tcp.connect", layer="transport", title="TCP connect")
def tcp_connect(vantage: Vantage, dst: str, port: int, timeout: float = 1.0) -> ProbeOutput:
    checked_ipv4(dst)
    result = call_in(vantage, _connect, dst, int(port), float(timeout))
    return ProbeOutput(rows=(result,), raw=f"tcp {dst}:{port} {result.state}")


IP_HLEN = 20
TCP_HLEN = 20


def _source_for(dst: str, port: int) -> str:
    """The address the kernel would send from to dst (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect((dst, port))
        return str(udp.getsockname()[0])


def _send_syns(dst: str, port: int, length: int, count: int) -> str:
    from scapy.layers.inet import IP, TCP  # lazy

    src = _source_for(dst, port)
    payload = b"vnetdoctor" * (length // 10 + 1)
    sport = random.randint(32768, 60999 - count)  # ephemeral, like a connect()'s
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as raw:
        for n in range(count):
            # scapy fills in the checksum over the pseudo-header; the kernel adds the IP header.
            segment = bytes(IP(src=src, dst=dst) / TCP(sport=sport + n, dport=port, flags="S", seq=n + 1)
                            / payload[:length - IP_HLEN - TCP_HLEN])[IP_HLEN:]
            raw.sendto(segment, (dst, 0))
    return src


@probe("tcp.syn", layer="transport", title="TCP SYNs of a chosen length (for the kernel's word)",
       needs=(NEED_NET_RAW,))
def tcp_syn(vantage: Vantage, dst: str, port: int, length: int, count: int = 2) -> ProbeOutput:
    """Send ``count`` SYNs carrying data, so their IP length is ``length`` and theirs alone.

    A connect()'s SYN has the length every SYN has; a SYN may carry data, and the data
    makes it recognisable in the kernel's trace (kernel.drops follows packets by length).
    Nothing is waited for: the kernel's watch says where they ended.
    """
    checked_ipv4(dst)
    if int(length) < IP_HLEN + TCP_HLEN + 1:
        raise Skip(f"a SYN of IP length {length} carries no data")
    src = call_in(vantage, _send_syns, dst, int(port), int(length), int(count))
    return ProbeOutput(rows=(), raw=f"{count} SYNs {src} -> {dst}:{port}, IP length {length}")
