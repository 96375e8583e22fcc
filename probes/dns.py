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
import re
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


_CANT_FIND = re.compile(r"can'?t find [^:]*:\s*([A-Za-z]+)")


def read_nslookup(output: str) -> tuple[str, str, str]:
    """(state, rcode, error) from what nslookup (busybox or BIND's) printed.

    Its exit status is not trusted: busybox exits 0 on some failures and 1 on an
    empty answer. The rcode is read from ``** server can't find .: REFUSED``; an
    answer section means NOERROR; a timeout is said as such.
    """
    low = output.lower()
    if "timed out" in low or "no servers could be reached" in low:
        return "timeout", "", "no answer"
    match = _CANT_FIND.search(output)
    if match:
        word = match.group(1).upper()
        if word in _RCODES.values():
            return "answered", word, ""
        return "error", "", match.group(0)[:200]
    if "connection refused" in low:
        return "refused", "", "connection refused"
    if "nameserver =" in low or "answer:" in low or "address:" in low and "name:" in low:
        return "answered", "NOERROR", ""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return "error", "", (lines[-1] if lines else "no output")[:200]


@probe("dns.resolve", layer="application", title="DNS resolvers answer", vantages=("local", "netns", "libvirt"))
def dns_resolve(vantage: Vantage, timeout: float = 1.0) -> ProbeOutput:
    text, source = resolv_conf(vantage)
    servers = nameservers(text)
    if not servers:
        return ProbeOutput(rows=(DnsRow("", "no-resolver", source=source, error="no nameserver line"),), raw=text)
    if vantage.kind == "libvirt":
        rows = []
        raws = [text]
        for server in servers:
            guard(server)
            res = run_command(vantage, ["nslookup", "-type=ns", ".", server], timeout=5)
            if res.returncode == 127:
                raise Skip(res.stderr.strip().splitlines()[0] if res.stderr.strip() else "no nslookup in the guest")
            state, rcode, err = read_nslookup(res.stdout + "\n" + res.stderr)
            raws.append(f"$ nslookup -type=ns . {server}  (exit {res.returncode})\n{res.stdout}{res.stderr}")
            # nslookup prints no round-trip time: rtt_ms stays unknown (None), never made up.
            rows.append(DnsRow(server, state, rcode, None, source, err))
        return ProbeOutput(rows=tuple(rows), raw="\n".join(raws))
    rows = []
    for server in servers:
        guard(server)
        state, rcode, rtt, err = call_in(vantage, _query, server, float(timeout))
        rows.append(DnsRow(server, state, rcode, rtt, source, err))
    return ProbeOutput(rows=tuple(rows), raw=text)
