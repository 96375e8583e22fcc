"""A small host/guest pair of namespaces holding one of everything the read-only probes read.

Used by ``test_probes_netns.py`` (each probe must return exactly this) and by
``record_probe_data.py`` (which records the kernel's and iproute2's answers
about it into ``tests/unit/data/probes/`` for the unit tests).

Safety: everything lives in two namespaces named with the caller's prefix;
nothing is created in, or changed of, the root namespace; addresses come from
198.18.0.0/15 and the documentation ranges only; :func:`probe_lab` removes both
namespaces whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


class LabError(RuntimeError):
    pass


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, check=False
    )
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc


@dataclass(frozen=True)
class ProbeLab:
    host: str  # namespace names
    guest: str
    has_legacy: bool  # iptables-legacy present, so the guest has a legacy rule

    def ip(self, ns: str, *args: str) -> None:
        sh("ip", "-n", ns, *args)

    def in_ns(self, ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", ns, *argv, check=check)


# What the lab sets; the lab test asserts the probes return exactly this.
HOST_BRIDGE = "br0"
FORWARD_DELAY_S = 30.0
GUEST_PORT = "vnet0"  # bridge port whose peer is the guest's eth0 (STP listening)
QUIET_PORT = "vnet1"  # bridge port with flooding, learning off and BPDU guard on
QUIET_PEER = "vpeer1"
UPLINK = "uplink"
UPLINK_PEER = "upeer"  # NOARP
DOWN_LINK = "down0"  # admin down
GUEST_IF = "eth0"
GUEST_MTU = 1450
UPLINK_MTU = 1400
HOST_BR_ADDR = "198.18.0.1"
GUEST_ADDR = "198.18.0.11"
UPLINK_ADDR = "203.0.113.1"
UPLINK_SECONDARY = "203.0.113.2"
GATEWAY = "203.0.113.254"
STATIC_FDB_MAC = "02:00:00:00:00:aa"
LEGACY_SOURCE = "192.0.2.99"
# On the uplink: br0 loses carrier while STP listens, and the kernel then flushes
# br0's neighbours (permanent ones included, on this kernel) a moment later.
NEIGH_DEV = UPLINK
PERMANENT_NEIGH = ("203.0.113.10", "02:00:00:00:00:10")
STALE_NEIGH = ("203.0.113.11", "02:00:00:00:00:11")

HOST_BATCH = [
    "link set lo up",
    f"link add {HOST_BRIDGE} type bridge stp_state 1 forward_delay {int(FORWARD_DELAY_S * 100)} nf_call_iptables 1",
    f"link add {QUIET_PORT} type veth peer name {QUIET_PEER}",
    f"link add {UPLINK} type veth peer name {UPLINK_PEER}",
    f"link add {DOWN_LINK} type veth peer name {DOWN_LINK}p",
    f"link set {QUIET_PORT} master {HOST_BRIDGE}",
    f"link set {QUIET_PORT} type bridge_slave flood off bcast_flood off learning off guard on cost 7 priority 9",
    f"link set {UPLINK} mtu {UPLINK_MTU}",
    f"link set {UPLINK_PEER} arp off",
    f"link set {HOST_BRIDGE} up",
    f"link set {QUIET_PORT} up",
    f"link set {QUIET_PEER} up",
    f"link set {UPLINK} up",
    f"link set {UPLINK_PEER} up",
    f"addr add {HOST_BR_ADDR}/24 dev {HOST_BRIDGE}",
    f"addr add {UPLINK_ADDR}/24 dev {UPLINK}",
    f"addr add {UPLINK_SECONDARY}/24 dev {UPLINK}",
    f"route add default via {GATEWAY} dev {UPLINK}",
    f"route add 198.51.100.0/24 via {GUEST_ADDR} dev {HOST_BRIDGE} metric 100 proto static",
    "route add blackhole 192.0.2.128/25",
    "route add unreachable 192.0.2.64/26",
    "route add prohibit 192.0.2.32/27",
    f"route add 198.18.64.0/24 nexthop via {GUEST_ADDR} dev {HOST_BRIDGE} nexthop via {GATEWAY} dev {UPLINK}",
    f"route add 198.18.99.0/24 dev {HOST_BRIDGE} table 100",
    f"neigh add {PERMANENT_NEIGH[0]} lladdr {PERMANENT_NEIGH[1]} dev {NEIGH_DEV} nud permanent",
    f"neigh add {STALE_NEIGH[0]} lladdr {STALE_NEIGH[1]} dev {NEIGH_DEV} nud stale",
]

GUEST_SYSCTLS = {
    "net.ipv4.icmp_echo_ignore_all": "1",
    f"net.ipv4.conf.{GUEST_IF}.rp_filter": "2",
    "net.ipv4.conf.all.arp_ignore": "1",
}
# Quiet IPv6 so addresses and counters do not change while we look.
QUIET_IPV6 = {
    "net.ipv6.conf.default.accept_dad": "0",
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.router_solicitations": "0",
    "net.ipv6.conf.all.router_solicitations": "0",
}

NFT_RULESET = """
table inet vndfilter {
    chain input {
        type filter hook input priority 0; policy accept;
        ip protocol icmp counter drop comment "vnd lab"
    }
}
"""


def _sysctls(lab: ProbeLab, ns: str, values: dict[str, str]) -> None:
    for key, value in values.items():
        lab.in_ns(ns, "sysctl", "-q", "-w", f"{key}={value}")


def _batch(ns: str, lines: Sequence[str]) -> None:
    proc = subprocess.run(
        ["ip", "-n", ns, "-batch", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise LabError(f"ip -n {ns} -batch: {proc.stderr.strip()}")


def build(lab: ProbeLab) -> None:
    for ns in (lab.host, lab.guest):
        sh("ip", "netns", "add", ns)
        _sysctls(lab, ns, QUIET_IPV6)
    _batch(lab.host, HOST_BATCH)
    # The guest's NIC: a veth whose host end is a bridge port.
    lab.ip(
        lab.host,
        "link",
        "add",
        GUEST_PORT,
        "type",
        "veth",
        "peer",
        "name",
        GUEST_IF,
        "netns",
        lab.guest,
    )
    lab.ip(lab.host, "link", "set", GUEST_PORT, "master", HOST_BRIDGE)
    lab.ip(lab.host, "link", "set", GUEST_PORT, "up")
    sh(
        "bridge",
        "-n",
        lab.host,
        "fdb",
        "add",
        STATIC_FDB_MAC,
        "dev",
        QUIET_PORT,
        "master",
        "static",
    )
    _batch(
        lab.guest,
        [
            "link set lo up",
            f"link set {GUEST_IF} mtu {GUEST_MTU}",
            f"link set {GUEST_IF} up",
            f"addr add {GUEST_ADDR}/24 dev {GUEST_IF}",
            f"route add default via {HOST_BR_ADDR}",
        ],
    )
    _sysctls(lab, lab.guest, GUEST_SYSCTLS)
    # Link flap: the port goes back through STP listening (and stays there 30 s).
    lab.ip(lab.host, "link", "set", GUEST_PORT, "down")
    lab.ip(lab.host, "link", "set", GUEST_PORT, "up")
    # Firewalls in the guest: native nft, iptables-nft (Docker-style), ebtables-nft, legacy.
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.guest, "nft", "-f", "-"],
        input=NFT_RULESET,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise LabError(f"nft -f: {proc.stderr.strip()}")
    lab.in_ns(
        lab.guest, "iptables-nft", "-A", "INPUT", "-p", "icmp", "-s", HOST_BR_ADDR, "-j", "DROP"
    )
    lab.in_ns(lab.guest, "iptables-nft", "-N", "DOCKER-USER")
    lab.in_ns(lab.guest, "iptables-nft", "-A", "FORWARD", "-j", "DOCKER-USER")
    lab.in_ns(lab.guest, "iptables-nft", "-P", "FORWARD", "DROP")
    lab.in_ns(lab.guest, "ebtables-nft", "-A", "FORWARD", "-p", "ARP", "-j", "DROP")
    if lab.has_legacy:
        # a source nobody uses, so that only the nft rule counts the guest's self-ping
        lab.in_ns(
            lab.guest,
            "iptables-legacy",
            "-A",
            "INPUT",
            "-s",
            LEGACY_SOURCE,
            "-p",
            "icmp",
            "-j",
            "DROP",
        )
    _wait_listening(lab)


def _wait_listening(lab: ProbeLab, deadline_s: float = 5.0) -> None:
    """Poll until both ports report STP listening (they do within milliseconds)."""
    end = time.monotonic() + deadline_s
    while True:
        out = sh("bridge", "-n", lab.host, "-j", "link", "show").stdout
        if out.count('"listening"') >= 2:
            return
        if time.monotonic() > end:
            raise LabError(f"bridge ports never reached listening: {out}")
        time.sleep(0.01)


def teardown(lab: ProbeLab) -> None:
    for ns in (lab.guest, lab.host):
        sh("ip", "netns", "del", ns, check=False)


@contextmanager
def probe_lab(prefix: str) -> Iterator[ProbeLab]:
    lab = ProbeLab(
        host=f"{prefix}h",
        guest=f"{prefix}g",
        has_legacy=shutil.which("iptables-legacy") is not None,
    )
    try:
        build(lab)
        yield lab
    finally:
        teardown(lab)
