"""What a lab topology is: the namespace roles, the fixed MAC addresses and the
:class:`Topology` record that says where the guest hangs and which addresses it has.

The record is data the scenarios, the faults and the checks read; how a topology is
built in namespaces lives in :mod:`.topology_build` and the six topologies the lab
offers in :mod:`.topologies`, so each can change without reading the other two.
MAC addresses are fixed (guests use QEMU's 52:54:00 prefix, taps libvirt's ``fe:``
variant of the guest MAC) so that recorded sessions of two runs compare.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checks import CheckSpec

if TYPE_CHECKING:
    from .lifecycle import LabInstance

# Namespace roles; a lab's namespaces are exactly PREFIX + one of these.
HOST, GUEST, WAN, ROGUE, PARK = "host", "guest", "wan", "rogue", "park"
ROLES = (HOST, GUEST, WAN, ROGUE, PARK)

DNS_ZONE = "lab.test"


def guest_mac(ip: str) -> str:
    """QEMU's OUI plus the low three bytes of the guest address."""
    b = ipaddress.IPv4Address(ip).packed
    return f"52:54:00:{b[1]:02x}:{b[2]:02x}:{b[3]:02x}"


def tap_mac(ip: str) -> str:
    """libvirt gives the tap the guest MAC with the first byte fe, so a bridge never adopts it."""
    return "fe" + guest_mac(ip)[2:]


def host_mac(ip: str) -> str:
    b = ipaddress.IPv4Address(ip).packed
    return "02:00:" + ":".join(f"{x:02x}" for x in b)


@dataclass(frozen=True)
class Topology:
    name: str
    summary: str
    roles: tuple[str, ...]
    host_if: str  # the host interface holding the guest-facing address
    port: str  # the host end of the guest's veth ("tap")
    bridge: str | None  # the bridge the port belongs to (None: host_if is the veth itself)
    host_ip: str
    prefixlen: int
    guest_ip: str
    guest_gw: str
    peer_ip: str | None
    build: Callable[[LabInstance], None]
    healthy_checks: tuple[CheckSpec, ...]
    forwarding: bool = False
    mac: str | None = None  # the guest NIC's MAC when not QEMU's (VMware, VirtualBox OUIs)
    host_mac: str | None = None  # the host interface's MAC when fixed by the platform

    @property
    def subnet(self) -> str:
        return str(ipaddress.ip_interface(f"{self.host_ip}/{self.prefixlen}").network)

    @property
    def guest_mac(self) -> str:
        return self.mac or guest_mac(self.guest_ip)

    @property
    def port_mac(self) -> str:
        return tap_mac(self.guest_ip)

    @property
    def bridge_mac(self) -> str:
        """The MAC of the interface holding the host address (the bridge, or vboxnet0)."""
        return self.host_mac or host_mac(self.host_ip)

    def address(self, symbol: str) -> str:
        """``host``/``guest``/``peer`` -> this topology's address; anything else is literal."""
        if symbol == "host":
            return self.host_ip
        if symbol == "guest":
            return self.guest_ip
        if symbol == "peer":
            if not self.peer_ip:
                raise ValueError(f"topology {self.name} has no outside peer")
            return self.peer_ip
        return symbol

    def dns_records(self) -> dict[str, str]:
        records = {f"host.{DNS_ZONE}": self.host_ip, f"guest.{DNS_ZONE}": self.guest_ip}
        if self.peer_ip:
            records[f"peer.{DNS_ZONE}"] = self.peer_ip
        return records
