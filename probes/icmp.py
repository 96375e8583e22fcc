"""ICMP echo from a vantage: the ping every flowchart starts with, and the path-MTU test.

A raw ICMP socket opened inside the vantage sends echo requests built with
scapy, so the kernel routes them, resolves ARP and applies the sender's own
firewall exactly as for ``ping``. Replies and ICMP errors are matched on our
identifier, so several probes can run at once in one namespace. A local send
error (no route, message too long for the interface) is evidence too, and is
kept in the row instead of being raised.
"""

from __future__ import annotations

import errno
import os
import random
import select
import socket
import struct
import threading
import time

from .base import ProbeOutput, Skip, probe
from .caps import NEED_NET_RAW
from .nsexec import call_in
from .rows_active import EchoRow
from .vocabulary import EchoFailure
from .safety import checked_ipv4
from .vantage import Vantage

IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
IP_PMTUDISC_PROBE = 3  # set DF, ignore the cached path MTU: we are the ones measuring it

_UNREACH = {
    0: "network unreachable",
    1: "host unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}


# Pings whose answer is already known (the kernel reported every probe packet dropped):
# their wait for replies ends now instead of at the timeout. Keyed by ICMP identifier.
_settled: set[int] = set()
_settled_lock = threading.Lock()


def stop_waiting(ident: int) -> None:
    """End the reply wait of the running ping with this identifier (kernel.drops calls it)."""
    with _settled_lock:
        _settled.add(ident)


def _is_settled(ident: int) -> bool:
    with _settled_lock:
        return ident in _settled


def echo_request(ident: int, seq: int, size: int) -> bytes:
    """An ICMP echo request with a recognisable payload (scapy builds it)."""
    from scapy.layers.inet import ICMP  # lazy

    payload = (b"vnetdoctor" * (size // 10 + 1))[:size]
    return bytes(ICMP(type=8, id=ident, seq=seq) / payload)


def _open(df: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE if df else IP_PMTUDISC_DONT)
    sock.setblocking(False)
    return sock


def ping(
    vantage: Vantage,
    dst: str,
    *,
    count: int = 3,
    size: int = 56,
    df: bool = False,
    timeout: float = 1.0,
    interval: float = 0.05,
    ident: int | None = None,
) -> list[EchoRow]:
    """Send ``count`` echo requests and wait up to ``timeout`` after the last for answers."""
    ident = ident if ident is not None else random.randint(1, 0xFFFF)
    with _settled_lock:
        _settled.discard(ident)  # a word about an earlier ping with this identifier
    sock = call_in(vantage, _open, df)
    rows: dict[int, EchoRow] = {}
    sent_at: dict[int, float] = {}
    try:
        for seq in range(1, count + 1):
            packet = echo_request(ident, seq, size)
            try:
                sock.sendto(packet, (dst, 0))
                sent_at[seq] = time.perf_counter()
            except OSError as exc:
                rows[seq] = EchoRow(dst, seq, ident, size, df, None, error=os.strerror(exc.errno or errno.EIO),
                                    failure=EchoFailure.NOT_SENT)
            _collect(sock, ident, dst, size, df, rows, sent_at, time.perf_counter() + (interval if seq < count else 0))
        deadline = time.perf_counter() + timeout
        while len(rows) < count and time.perf_counter() < deadline and not _is_settled(ident):
            _collect(sock, ident, dst, size, df, rows, sent_at, min(deadline, time.perf_counter() + 0.05))
    finally:
        sock.close()
        with _settled_lock:
            _settled.discard(ident)
    return [rows.get(seq) or EchoRow(dst, seq, ident, size, df, None) for seq in range(1, count + 1)]


def _collect(
    sock: socket.socket,
    ident: int,
    dst: str,
    size: int,
    df: bool,
    rows: dict[int, EchoRow],
    sent_at: dict[int, float],
    until: float,
) -> None:
    while True:
        wait = until - time.perf_counter()
        if wait <= 0:
            return
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            return
        try:
            data, addr = sock.recvfrom(65535)
        except BlockingIOError:
            continue
        _match(data, addr[0], ident, dst, size, df, rows, sent_at)


def _match(
    data: bytes, src: str, ident: int, dst: str, size: int, df: bool, rows: dict[int, EchoRow], sent_at: dict[int, float]
) -> None:
    ihl = (data[0] & 0x0F) * 4
    icmp = data[ihl:]
    if len(icmp) < 8:
        return
    itype, code = icmp[0], icmp[1]
    if itype == 0:
        rid, seq = struct.unpack("!HH", icmp[4:8])
        if rid == ident and seq in sent_at and seq not in rows:
            rtt = (time.perf_counter() - sent_at[seq]) * 1000.0
            rows[seq] = EchoRow(dst, seq, ident, size, df, round(rtt, 3), reply_from=src)
    elif itype in (3, 11, 12) and len(icmp) >= 8 + 20 + 8:
        inner = icmp[8:]
        inner_ihl = (inner[0] & 0x0F) * 4
        orig = inner[inner_ihl : inner_ihl + 8]
        if len(orig) < 8 or orig[0] != 8:
            return
        rid, seq = struct.unpack("!HH", orig[4:8])
        if rid == ident and seq in sent_at and seq not in rows:
            if itype == 3:
                what = _UNREACH.get(code, f"destination unreachable code {code}")
                failure = EchoFailure.UNREACHABLE
                if code == 4:
                    mtu = struct.unpack("!H", icmp[6:8])[0]
                    what += f" (next-hop MTU {mtu})"
                    failure = EchoFailure.TOO_BIG
            elif itype == 11:
                what, failure = "time exceeded", EchoFailure.TIME_EXCEEDED
            else:
                what, failure = "parameter problem", EchoFailure.PARAMETER_PROBLEM
            rows[seq] = EchoRow(dst, seq, ident, size, df, None, reply_from=src, error=f"{what} from {src}",
                                failure=failure)


@probe("icmp.echo", layer="network", title="ICMP echo (ping)", needs=(NEED_NET_RAW,),
       vantages=("local", "netns", "libvirt"))
def icmp_echo(
    vantage: Vantage,
    dst: str,
    count: int = 3,
    size: int = 56,
    df: bool = False,
    timeout: float = 1.0,
    ident: int | None = None,
) -> ProbeOutput:
    checked_ipv4(dst)
    if vantage.kind == "libvirt":
        # No raw socket inside a guest from here: its own ping, through the guest agent.
        from .guest_agent import is_windows
        from .guest_ping import guest_ping

        if df:
            raise Skip("DF pings from inside a libvirt guest are not supported")
        grows, graw = guest_ping(vantage, dst, count=int(count), size=int(size), timeout=float(timeout),
                                 ident=ident, windows=is_windows(vantage))
        return ProbeOutput(rows=tuple(grows), raw=graw)
    rows = ping(vantage, dst, count=int(count), size=int(size), df=bool(df), timeout=float(timeout), ident=ident)
    answered = sum(1 for r in rows if r.rtt_ms is not None)
    return ProbeOutput(rows=tuple(rows), raw=f"{answered}/{len(rows)} echo replies from {dst} (size {size}, df={df})")


@probe("icmp.pmtu", layer="datalink", title="path MTU (DF pings of several sizes)", needs=(NEED_NET_RAW,))
def icmp_pmtu(vantage: Vantage, dst: str, sizes: str = "56,1000,1272,1372,1472", timeout: float = 0.8,
              idents: str = "") -> ProbeOutput:
    """DF echo requests of growing sizes, sent together: which sizes make it there and back.

    ``idents``: the ICMP identifier of each size's ping (comma-separated, same order), for a
    kernel watch that ends a size's wait once the kernel reported its packets dropped.
    """
    import concurrent.futures

    checked_ipv4(dst)
    wanted = [int(s) for s in str(sizes).split(",") if s.strip()]
    given = [int(i) for i in str(idents).split(",") if i.strip()]
    ids: list[int | None] = list(given) if len(given) == len(wanted) else [None] * len(wanted)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futs = [pool.submit(ping, vantage, dst, count=2, size=s, df=True, timeout=float(timeout), ident=i)
                for s, i in zip(wanted, ids, strict=True)]
        rows = [r for f in futs for r in f.result()]
    passed = sorted({r.size for r in rows if r.rtt_ms is not None})
    return ProbeOutput(rows=tuple(rows), raw=f"sizes answered: {passed or 'none'} of {wanted}")
