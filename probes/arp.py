"""ARP who-has from a vantage's interface: who answers for an address, and how many.

Built with scapy, sent and received on an ``AF_PACKET`` socket opened inside the
vantage with a kernel BPF filter for ARP replies. More than one MAC answering for
one IP is a duplicate address; no answer at all, with the neighbour entry stuck in
INCOMPLETE/FAILED, is the ARP failure the data-link checks explain.
"""

from __future__ import annotations

import fcntl
import select
import socket
import struct
import time

from .base import ProbeOutput, Skip, probe
from .capture import ETH_P_ALL, _attach, compile_bpf
from .caps import NEED_NET_RAW
from .nsexec import call_in
from .rows_active import ArpReplyRow
from .safety import checked_ipv4
from .vantage import Vantage

SIOCGIFADDR = 0x8915
SIOCGIFHWADDR = 0x8927
# A station answers ARP from its kernel's softirq: on a LAN within a millisecond or two. Once
# one has answered, another with the same address (a duplicate) has this long to answer too.
ANSWER_GRACE_S = 0.1


def _iface_addrs(sock: socket.socket, dev: str) -> tuple[bytes, str]:
    req = struct.pack("256s", dev.encode()[:15])
    mac = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, req)[18:24]
    try:
        ip = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, req)[20:24])
    except OSError:
        ip = "0.0.0.0"  # no address: an ARP probe (RFC 5227) still gets answers
    return mac, ip


def _open(dev: str, program: bytes) -> tuple[socket.socket, bytes, str]:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        _attach(sock, program)
        sock.bind((dev, ETH_P_ALL))
        sock.setblocking(False)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as helper:
            mac, ip = _iface_addrs(helper, dev)
    except BaseException:
        sock.close()
        raise
    return sock, mac, ip


def arp_who_has(vantage: Vantage, dev: str, target: str, count: int = 2, timeout: float = 0.8) -> list[ArpReplyRow]:
    from scapy.layers.l2 import ARP, Ether  # lazy

    program = compile_bpf(f"arp and arp[6:2] = 2 and arp[14:4] = {_u32(target)}")
    try:
        sock, mac, src_ip = call_in(vantage, _open, dev, program)
    except OSError as exc:
        raise Skip(f"cannot open {dev} in {vantage}: {exc.strerror or exc}") from None
    seen: dict[str, int] = {}
    try:
        frame = bytes(
            Ether(dst="ff:ff:ff:ff:ff:ff", src=mac)
            / ARP(op=1, hwsrc=mac, psrc=src_ip, hwdst="00:00:00:00:00:00", pdst=target)
        )
        deadline = time.perf_counter() + timeout
        for i in range(count):
            sock.send(frame)
            if i < count - 1:  # the next request once someone answered, else at its time
                _read(sock, target, seen, time.perf_counter() + timeout / count, grace=0.0)
        # Nobody answered yet: wait it out. Someone did: give a second station (a duplicate
        # address) ANSWER_GRACE_S to answer too, not the whole timeout.
        _read(sock, target, seen, deadline, grace=ANSWER_GRACE_S)
    finally:
        sock.close()
    return [ArpReplyRow(target, m, dev, n) for m, n in sorted(seen.items())]


def _u32(ip: str) -> str:
    return "0x" + socket.inet_aton(ip).hex()


def _read(sock: socket.socket, target: str, seen: dict[str, int], until: float, grace: float | None = None) -> None:
    """Collect answers until ``until``; with ``grace``, no later than ``grace`` s after the
    first answer (counted from now when one came before)."""
    if grace is not None and seen:
        until = min(until, time.perf_counter() + grace)
    while (wait := until - time.perf_counter()) > 0:
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            return
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            continue
        if len(data) >= 42 and socket.inet_ntoa(data[28:32]) == target:
            mac = data[22:28].hex(":")
            if grace is not None and not seen:
                until = min(until, time.perf_counter() + grace)
            seen[mac] = seen.get(mac, 0) + 1


@probe("arp.probe", layer="datalink", title="ARP who-has", needs=(NEED_NET_RAW,))
def arp_probe(vantage: Vantage, dev: str, target: str, count: int = 2, timeout: float = 0.5) -> ProbeOutput:
    checked_ipv4(target)
    rows = arp_who_has(vantage, dev, target, int(count), float(timeout))
    macs = ", ".join(r.mac for r in rows) or "nobody"
    return ProbeOutput(rows=tuple(rows), raw=f"who-has {target} on {dev}: answered by {macs}")
