"""Listening TCP sockets in a vantage: tells "nothing listens" from "a firewall answers RST".

Read from ``/proc/thread-self/net/tcp`` (and tcp6) inside the vantage — the
thread's namespace, not the process's — so no ``ss`` binary is needed.
"""

from __future__ import annotations

import socket
import struct

from .base import ProbeOutput, probe
from .nsexec import read_text, run_command
from .rows_active import ListenRow
from .vantage import Vantage

_LISTEN = "0A"


def _addr4(hexaddr: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(hexaddr, 16)))


def _addr6(hexaddr: str) -> str:
    raw = bytes.fromhex(hexaddr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def parse_proc_tcp(text: str, family: str) -> list[ListenRow]:
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4 or parts[3] != _LISTEN:
            continue
        addr, port = parts[1].split(":")
        ip = _addr4(addr) if family == "inet" else _addr6(addr)
        rows.append(ListenRow(ip, int(port, 16), family))
    return rows


@probe("tcp.listen", layer="transport", title="listening TCP sockets", vantages=("local", "netns", "libvirt"))
def tcp_listen(vantage: Vantage) -> ProbeOutput:
    rows: list[ListenRow] = []
    raw = []
    for fam, name in (("inet", "tcp"), ("inet6", "tcp6")):
        if vantage.kind == "libvirt":
            res = run_command(vantage, ["cat", f"/proc/net/{name}"], timeout=5)
            text = res.stdout if res.ok else None
        else:
            text = read_text(vantage, f"/proc/thread-self/net/{name}")
        if text:
            rows.extend(parse_proc_tcp(text, fam))
            raw.append(f"{name}: {len(text.splitlines()) - 1} sockets")
    return ProbeOutput(rows=tuple(sorted(set(rows), key=lambda r: (r.port, r.address))), raw="; ".join(raw))
