"""Can the vantage resolve names? Asks each resolver it is configured with.

A namespace's resolvers are those ``ip netns exec`` would give it
(``/etc/netns/NAME/resolv.conf`` when present, else ``/etc/resolv.conf``). The
query is the root's NS record: every recursive resolver answers it, so an answer
(whatever its content) proves the resolver is reachable and working, and no name
of the operator's leaks anywhere.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import struct
import time

from .base import ProbeOutput, Skip, probe
from .nsexec import call_in, run_command
from .rows_active import DnsRow
from .safety import guard
from .vantage import Vantage

_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def resolv_conf(vantage: Vantage) -> tuple[str, str]:
    """(text, source path) of the resolver configuration as the vantage sees it."""
    if vantage.kind == "libvirt":
        res = run_command(vantage, ["cat", "/etc/resolv.conf"], timeout=5)
        if res.returncode == 127:
            # No agent (or no cat in the guest): unknown, not "no resolver configured".
            raise Skip(res.stderr.strip().splitlines()[0] if res.stderr.strip() else "no guest agent")
        return (res.stdout if res.ok else ""), "/etc/resolv.conf (guest)"
    paths = ["/etc/resolv.conf"]
    if vantage.kind == "netns":
        paths.insert(0, f"/etc/netns/{vantage.name}/resolv.conf")
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read(), path
        except OSError:
            continue
    return "", paths[-1]


def nameservers(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            try:
                socket.inet_aton(parts[1])
            except OSError:
                continue  # IPv6 resolvers are not probed yet
            out.append(parts[1])
    return out


def _query(resolver: str, timeout: float) -> tuple[str, str, float | None, str]:
    qid = random.randint(0, 0xFFFF)
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"\x00" + struct.pack("!HH", 2, 1)
    start = time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((resolver, 53))
            sock.send(packet)
            while True:
                data = sock.recv(4096)
                if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                    break
        except TimeoutError:
            return "timeout", "", None, f"no answer in {timeout:.1f}s"
        except OSError as exc:
            code = exc.errno or 0
            state = "refused" if code == errno.ECONNREFUSED else "unreachable"
            return state, "", None, os.strerror(code)
    rtt = round((time.perf_counter() - start) * 1000, 3)
    rcode = _RCODES.get(data[3] & 0x0F, str(data[3] & 0x0F))
    return "answered", rcode, rtt, ""


@probe("dns.resolve", layer="application", title="DNS resolvers answer", vantages=("local", "netns", "libvirt"))
def dns_resolve(vantage: Vantage, timeout: float = 1.0) -> ProbeOutput:
    text, source = resolv_conf(vantage)
    servers = nameservers(text)
    if not servers:
        return ProbeOutput(rows=(DnsRow("", "no-resolver", source=source, error="no nameserver line"),), raw=text)
    if vantage.kind == "libvirt":
        rows = []
        for server in servers:
            guard(server)
            res = run_command(vantage, ["nslookup", "-timeout=1", ".", server], timeout=5)
            state = "answered" if res.ok else ("timeout" if "timed out" in res.stdout + res.stderr else "error")
            rows.append(DnsRow(server, state, source=source, error=(res.stderr or "").strip()[:200]))
        return ProbeOutput(rows=tuple(rows), raw=text)
    rows = []
    for server in servers:
        guard(server)
        state, rcode, rtt, err = call_in(vantage, _query, server, float(timeout))
        rows.append(DnsRow(server, state, rcode, rtt, source, err))
    return ProbeOutput(rows=tuple(rows), raw=text)
