"""A TCP connect from a vantage: open, closed (RST), filtered (silence) or rejected (ICMP).

The kernel's own connect() tells the cases apart exactly: ECONNREFUSED is an RST,
EHOSTUNREACH/ENETUNREACH/EACCES come from an ICMP error or a local REJECT, and a
timeout is a silent drop. The socket is opened inside the vantage.
"""

from __future__ import annotations

import errno
import os
import socket
import time

from .base import ProbeOutput, probe
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
