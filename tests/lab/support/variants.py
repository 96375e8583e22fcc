"""Variant topologies for the accuracy tests: built unlike the lab on purpose.

The lab's scenarios are what the rules were developed against; these use other
namespace and interface names, other addresses (192.0.2.0/24, 203.0.113.0/24),
iptables-legacy and iptables-nft next to nftables, REJECT next to DROP, faults on
the other side and in the reply direction only — so a rule that keyed on how the
lab builds a fault, instead of on what the fault is, fails here.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def ns_sh(ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return sh("ip", "netns", "exec", ns, *argv, check=check)


@dataclass
class Variant:
    prefix: str
    outside: str = ""  # "", "routed" or "nat"

    @property
    def hv(self) -> str:
        return f"{self.prefix}hv"

    @property
    def vm(self) -> str:
        return f"{self.prefix}vm"

    @property
    def out(self) -> str:
        return f"{self.prefix}out"

    host_ip = "192.0.2.1"
    guest_ip = "192.0.2.77"
    peer_ip = "203.0.113.50"

    def build(self) -> Variant:
        sh("ip", "netns", "add", self.hv)
        sh("ip", "netns", "add", self.vm)
        b = [
            "link add lanbr type bridge",
            "link set lanbr up",
            f"addr add {self.host_ip}/24 dev lanbr",
            f"link add tap-vm7 type veth peer name ens3 netns {self.vm}",
            "link set tap-vm7 master lanbr",
            "link set tap-vm7 up",
            "link set lo up",
        ]
        self._batch(self.hv, b)
        self._batch(self.vm, [
            "link set lo up",
            "link set ens3 up",
            f"addr add {self.guest_ip}/24 dev ens3",
            f"route add default via {self.host_ip}",
        ])
        if self.outside:
            sh("ip", "netns", "add", self.out)
            self._batch(self.hv, [
                f"link add upl0 type veth peer name wan netns {self.out}",
                "addr add 203.0.113.1/24 dev upl0",
                "link set upl0 up",
            ])
            back = [f"route add 192.0.2.0/24 via 203.0.113.1"] if self.outside == "routed" else []
            self._batch(self.out, ["link set lo up", "link set wan up", f"addr add {self.peer_ip}/24 dev wan", *back])
            ns_sh(self.hv, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            if self.outside == "nat":
                ns_sh(self.hv, "nft", "add table ip vnat; add chain ip vnat post { type nat hook postrouting priority 100; }; "
                      "add rule ip vnat post ip saddr 192.0.2.0/24 oifname upl0 masquerade")
        return self

    def _batch(self, ns: str, lines: list[str]) -> None:
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", text=True, check=True,
                       capture_output=True)

    def args(self, *extra: str) -> list[str]:
        return ["--host", f"netns:{self.hv}", "--guest", f"netns:{self.vm}", *extra]

    def destroy(self) -> None:
        for ns in (self.vm, self.out, self.hv):
            sh("ip", "netns", "del", ns, check=False)
