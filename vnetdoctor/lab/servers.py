"""The tiny services a lab runs inside its namespaces: a TCP listener, a DNS responder,
and a rogue guest's ARP announcer.

This file is run as a script (``python -I -S servers.py KIND …``) and imports
nothing but the standard library, so a server starts in a few milliseconds and
does not depend on the package being importable. The lab creates and binds each
socket itself, inside the right namespace, *before* starting the process and
passes it as an inherited descriptor: the port is listening the moment ``lab up``
returns (connections queue in the backlog until the process accepts them), so
nobody has to poll for readiness. ``--lab PREFIX`` is only a marker: it lets
``lab down`` recognise its own processes when the state file is gone.

``--watch PATH:INODE`` makes a server leave by itself once its namespace's name
is gone (``ip netns del`` by hand, a crashed test run cleaned up by name only):
a process inside a namespace keeps it, and its links, alive after the name is
deleted, so a server must not outlive its lab.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import threading
import time

BANNER = b"vnetdoctor-lab\r\n"


def serve_tcp(fd: int) -> None:
    """Accept, greet, close: enough for a TCP connect check and a banner grab."""
    sock = socket.socket(fileno=fd)
    while True:
        conn, _ = sock.accept()
        try:
            conn.sendall(BANNER)
        except OSError:
            pass
        finally:
            conn.close()


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    labels = []
    while True:
        length = packet[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0:  # compression never appears in a question we accept
            raise ValueError("compressed name in question")
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length
    return ".".join(labels).lower(), offset


def dns_answer(query: bytes, records: dict[str, str], zone: str) -> bytes | None:
    """Answer one query: A records for ``records``, NXDOMAIN for other names in ``zone``,
    an empty NOERROR for everything else (so "is a resolver there?" probes get an answer)."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    try:
        name, end = _read_name(query, 12)
    except (ValueError, IndexError):
        return None
    if end + 4 > len(query):
        return None
    qtype, qclass = struct.unpack("!HH", query[end : end + 4])
    question = query[12 : end + 4]
    rd = flags & 0x0100
    rcode = 0
    answers = b""
    ancount = 0
    address = records.get(name)
    if address is not None:
        if qtype in (1, 255) and qclass == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
            ancount = 1
    elif name == zone or name.endswith("." + zone):
        rcode = 3
    header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode, 1, ancount, 0, 0)
    return header + question + answers


def serve_dns(fd: int, records: dict[str, str], zone: str) -> None:
    sock = socket.socket(fileno=fd)
    while True:
        data, peer = sock.recvfrom(1500)
        reply = dns_answer(data, records, zone)
        if reply is not None:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass


def announce(fd: int, mac: str, ip: str, gateway: str, interval: float) -> None:
    """What a rogue guest with a stolen address does: announce it and ask for the gateway.

    A gratuitous ARP overrides existing neighbour entries on the segment; an ARP
    request "who has GATEWAY, tell IP" makes the gateway create or update its
    entry for IP with our MAC even when it had none.
    """
    sock = socket.socket(fileno=fd)
    src = bytes(int(x, 16) for x in mac.split(":"))

    def frame(sender: str, target: str) -> bytes:
        arp = struct.pack(
            "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, socket.inet_aton(sender),
            b"\x00" * 6, socket.inet_aton(target),
        )
        return (b"\xff" * 6 + src + b"\x08\x06" + arp).ljust(60, b"\x00")

    while True:
        for packet in (frame(ip, ip), frame(ip, gateway)):
            try:
                sock.send(packet)
            except OSError:
                pass
        time.sleep(interval)


def watch(path: str, inode: int, interval: float = 1.0) -> None:
    """Exit the whole process once ``path`` no longer names the namespace we were started in."""

    def loop() -> None:
        while True:
            try:
                alive = os.stat(path).st_ino == inode
            except OSError:
                alive = False
            if not alive:
                os._exit(0)
            time.sleep(interval)

    threading.Thread(target=loop, name="netns-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vnetdoctor-lab-server")
    parser.add_argument("kind", choices=("tcp", "dns", "announce"))
    parser.add_argument("--lab", required=True, help="lab prefix (a marker for lab down)")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--record", action="append", default=[], help="NAME=IPV4 (dns)")
    parser.add_argument("--zone", default="lab.test")
    parser.add_argument("--mac", default="")
    parser.add_argument("--ip", default="")
    parser.add_argument("--gateway", default="")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--watch", default="", help="PATH:INODE of the namespace to outlive not")
    args = parser.parse_args(argv)
    if args.watch:
        path, _, inode = args.watch.rpartition(":")
        watch(path, int(inode))
    try:
        if args.kind == "tcp":
            serve_tcp(args.fd)
        elif args.kind == "dns":
            records = dict(item.lower().split("=", 1) for item in args.record)
            serve_dns(args.fd, records, args.zone.lower())
        else:
            announce(args.fd, args.mac, args.ip, args.gateway, args.interval)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
