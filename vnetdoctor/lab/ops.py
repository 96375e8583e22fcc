"""The few primitive changes the lab makes, each confined to one lab namespace.

Everything the lab does goes through here, and every function takes a namespace
*name* the lab created: there is deliberately no way to address the caller's own
namespace. ``ip``/``tc`` work is batched (``ip -n NS -batch -``: one process per
namespace per step, which is what keeps ``lab up`` far under a second), sysctls
are written from a thread that entered the namespace (no process at all), and
``nft``/``iptables`` run as children forked from such a thread, so they start
inside the namespace without ``ip netns exec``.

Any failure raises :class:`LabError` with one line naming the command and what
the kernel said, which the caller turns into a clean teardown.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
from collections.abc import Iterable, Sequence

from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.nsexec import call_in
from vnetdoctor.probes.vantage import Vantage


class LabError(RuntimeError):
    """The lab could not do what it was asked; the message is one line for the operator."""


def _ns(name: str) -> Vantage:
    if not name:
        raise LabError("internal: a lab operation without a namespace")
    return Vantage("netns", name)


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[0] if lines else "no error text"


def _spawn(argv: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv), input=stdin, check=False, capture_output=True, text=True, timeout=20,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise LabError(tr("labcli.command_not_found", command=argv[0])) from None
    except subprocess.TimeoutExpired:
        raise LabError(tr("labcli.timed_out", command=" ".join(argv))) from None


def ip_root_batch(lines: Iterable[str]) -> None:
    """``ip -batch -`` without a namespace: only ``netns add|del`` and ``link add … netns``.

    Links are created directly inside the lab namespaces (IFLA_NET_NS_FD on both
    veth ends), so nothing ever exists in the caller's namespace, not even briefly.
    """
    lines = list(lines)
    for line in lines:
        words = line.split()
        if words[:2] in (["netns", "add"], ["netns", "del"]):
            continue
        if words[:2] == ["link", "add"] and "netns" in words:
            # every device and every veth peer must name its namespace
            if words.count("netns") < (2 if "peer" in words else 1):
                raise LabError(f"internal: refusing a link outside the lab namespaces: {line}")
            continue
        raise LabError(f"internal: refusing a root-namespace ip command: {line}")
    _batch(["ip", "-batch", "-"], lines)


def ip_batch(ns: str, lines: Iterable[str]) -> None:
    """Run ``ip`` commands (one per line, without the leading ``ip``) inside ``ns``."""
    _batch(["ip", "-n", _ns(ns).name, "-batch", "-"], list(lines))


def tc_batch(ns: str, lines: Iterable[str]) -> None:
    _batch(["tc", "-n", _ns(ns).name, "-batch", "-"], list(lines))


def bridge_batch(ns: str, lines: Iterable[str]) -> None:
    _batch(["bridge", "-n", _ns(ns).name, "-batch", "-"], list(lines))


def _batch(argv: list[str], lines: list[str]) -> None:
    if not lines:
        return
    proc = _spawn(argv, "\n".join(lines) + "\n")
    if proc.returncode != 0:
        # ip -batch reports "Command failed -:N" after the kernel's message
        raise LabError(f"{' '.join(argv[:3])}: {_first_line(proc.stderr)} ({_failed_line(proc.stderr, lines)})")


def _failed_line(stderr: str, lines: list[str]) -> str:
    for text in stderr.splitlines():
        if "Command failed -:" in text:
            try:
                return lines[int(text.rsplit(":", 1)[1]) - 1]
            except (ValueError, IndexError):
                break
    return lines[0] if len(lines) == 1 else f"{len(lines)} commands"


def run_in(ns: str, argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    """Run a command whose process starts inside ``ns``; its stdout, or LabError."""

    def spawn() -> subprocess.CompletedProcess[str]:
        return _spawn(argv, stdin)

    proc = call_in(_ns(ns), spawn)
    if check and proc.returncode != 0:
        raise LabError(tr("labcli.failed_in", what=" ".join(argv), ns=ns,
                          error=_first_line(proc.stderr or proc.stdout)))
    return proc.stdout


def nft(ns: str, script: str) -> None:
    """Load an nftables script (``nft -f -``) atomically inside ``ns``."""
    run_in(ns, ["nft", "-f", "-"], stdin=script)


def sysctl(ns: str, settings: Iterable[tuple[str, str | int]]) -> None:
    """Write ``net.*`` sysctls as seen from inside ``ns`` (per-namespace keys only)."""
    pairs = list(settings)
    for key, _ in pairs:
        if not key.startswith("net."):
            raise LabError(f"internal: the lab only writes per-namespace net.* sysctls, not {key}")

    def write() -> None:
        for key, value in pairs:
            path = "/proc/sys/" + key.replace(".", "/")
            try:
                with open(path, "w", encoding="ascii") as fh:
                    fh.write(f"{value}\n")
            except OSError as exc:
                raise LabError(tr("labcli.failed_in", what=f"sysctl {key}={value}", ns=ns,
                                  error=str(exc.strerror or exc))) from None

    call_in(_ns(ns), write)


def read_sysctl(ns: str, key: str) -> str:
    def read() -> str:
        with open("/proc/sys/" + key.replace(".", "/"), encoding="ascii") as fh:
            return fh.read().strip()

    return call_in(_ns(ns), read)


def netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join("/run/netns", name))


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(os.path.join("/run/netns", name)).st_ino
    except OSError:
        return None


# --- raw frames: what a rogue guest or a misbehaving switch puts on the wire -------------

def mac_bytes(mac: str) -> bytes:
    return bytes(int(part, 16) for part in mac.split(":"))


def arp_frame(src_mac: str, sender_ip: str, target_ip: str, op: int = 1) -> bytes:
    """A broadcast ARP request (op 1) from ``sender_ip``; gratuitous when both IPs match."""
    src = mac_bytes(src_mac)
    arp = struct.pack(
        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, src, socket.inet_aton(sender_ip),
        b"\x00" * 6, socket.inet_aton(target_ip),
    )
    frame = b"\xff" * 6 + src + b"\x08\x06" + arp
    return frame.ljust(60, b"\x00")


def stp_config_bpdu(src_mac: str) -> bytes:
    """An 802.1D configuration BPDU claiming root with priority 0: what BPDU guard reacts to."""
    bridge_id = b"\x00\x00" + mac_bytes(src_mac)
    bpdu = struct.pack(
        "!HBBB8sI8sHHHHH", 0, 0, 0, 0, bridge_id, 0, bridge_id, 0x8001,
        0, 20 * 256, 2 * 256, 15 * 256,
    )
    llc = b"\x42\x42\x03"
    payload = llc + bpdu
    frame = b"\x01\x80\xc2\x00\x00\x00" + mac_bytes(src_mac) + struct.pack("!H", len(payload)) + payload
    return frame.ljust(60, b"\x00")


def open_packet_socket(ns: str, ifname: str) -> socket.socket:
    """An AF_PACKET socket bound to ``ifname`` in ``ns`` (it stays in that namespace)."""

    def make() -> socket.socket:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        sock.bind((ifname, 0))
        return sock

    try:
        return call_in(_ns(ns), make)
    except OSError as exc:
        raise LabError(tr("labcli.failed_in", what=f"raw socket on {ifname}", ns=ns,
                          error=str(exc.strerror or exc))) from None


def send_frames(ns: str, ifname: str, frames: Iterable[bytes]) -> None:
    sock = open_packet_socket(ns, ifname)
    try:
        for frame in frames:
            sock.send(frame)
    finally:
        sock.close()
