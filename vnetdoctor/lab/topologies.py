"""The lab's six topologies: what a KVM/libvirt, VMware or VirtualBox guest and its host
look like from the host, rebuilt from network namespaces, veth pairs and bridges.

This is the catalogue: each entry is a :class:`~.topology.Topology` record plus
the builder in :mod:`.topology_build` that makes it. The "host" is always the
namespace ``{P}host`` and never the caller's own namespace. Addresses come only
from 198.18.0.0/15 and the documentation ranges.

| topology     | guest hangs on        | host address      | guest           | outside peer ({P}wan) |
|--------------|-----------------------|-------------------|-----------------|-----------------------|
| bridged      | br0 (port vnet0)      | 198.18.0.1/24     | 198.18.0.11     | 198.18.0.254 (on br0's LAN, uplink eth0 is a br0 port) |
| nat          | virbr0 (port vnet0)   | 198.18.122.1/24   | 198.18.122.11   | 203.0.113.254, reached through masquerade out of eth0 |
| routed       | virbr1 (port vnet0)   | 198.19.10.1/24    | 198.19.10.11    | 198.51.100.254, which routes 198.19.10.0/24 back via the host |
| routed-asym  | as routed, plus a second uplink eth1 203.0.113.1/24; the peer's route back uses eth1 |
| vmware       | vmnet8 (port vmnet8-vm0), plus host-only vmnet1 198.18.1.1/24 | 198.18.8.1/24 | 198.18.8.128 | none |
| virtualbox   | vboxnet0 (a veth to the guest) | 198.18.56.1/24 | 198.18.56.101 | none |

Every topology also runs a TCP listener in the guest on :data:`LAB_PORT` and a
DNS responder on the host's guest-facing address (what libvirt's dnsmasq does),
which the guest's ``/etc/netns/{P}guest/resolv.conf`` points at.
"""

from __future__ import annotations

from .checks import DNS, DNS_NAME, PING, PING_DF_1400, TCP, CheckSpec
from .topology import GUEST, HOST, WAN, Topology
from .topology_build import (
    NAT_UPLINK,
    ROUTED_UPLINK,
    build_bridged,
    build_nat,
    build_routed,
    build_virtualbox,
    build_vmware,
)


def _healthy(*, peer_both_ways: bool, peer: bool = True, dns: bool = True, df: bool = True) -> tuple[CheckSpec, ...]:
    checks = [
        CheckSpec(PING, HOST, "guest", True),
        CheckSpec(PING, GUEST, "host", True),
        CheckSpec(TCP, HOST, "guest", True),
    ]
    if df:
        checks.append(CheckSpec(PING_DF_1400, HOST, "guest", True))
    if peer:
        checks.append(CheckSpec(PING, GUEST, "peer", True))
    if peer_both_ways:
        checks.append(CheckSpec(PING, WAN, "guest", True))
    if dns:
        checks.append(CheckSpec(DNS, GUEST, DNS_NAME, True))
    return tuple(checks)


BRIDGED = Topology(
    name="bridged",
    summary="KVM guest on host bridge br0 (port vnet0); br0 also holds the uplink eth0 to the LAN",
    roles=(HOST, GUEST, WAN), host_if="br0", port="vnet0", bridge="br0",
    host_ip="198.18.0.1", prefixlen=24, guest_ip="198.18.0.11", guest_gw="198.18.0.254",
    peer_ip="198.18.0.254", build=build_bridged,
    healthy_checks=_healthy(peer_both_ways=True),
)
NAT = Topology(
    name="nat",
    summary="libvirt default-style NAT network: virbr0 198.18.122.1/24, masquerade out of eth0",
    roles=(HOST, GUEST, WAN), host_if="virbr0", port="vnet0", bridge="virbr0",
    host_ip="198.18.122.1", prefixlen=24, guest_ip="198.18.122.11", guest_gw="198.18.122.1",
    peer_ip=NAT_UPLINK[1], build=build_nat, forwarding=True,
    healthy_checks=_healthy(peer_both_ways=False),
)
ROUTED = Topology(
    name="routed",
    summary="routed network: guest subnet 198.19.10.0/24 on virbr1, routed (not NATed) by the host",
    roles=(HOST, GUEST, WAN), host_if="virbr1", port="vnet0", bridge="virbr1",
    host_ip="198.19.10.1", prefixlen=24, guest_ip="198.19.10.11", guest_gw="198.19.10.1",
    peer_ip=ROUTED_UPLINK[1], build=build_routed, forwarding=True,
    healthy_checks=_healthy(peer_both_ways=True),
)
ROUTED_ASYM = Topology(
    name="routed-asym",
    summary="routed network on a two-NIC host: requests leave by eth0, the peer answers via eth1",
    roles=(HOST, GUEST, WAN), host_if="virbr1", port="vnet0", bridge="virbr1",
    host_ip="198.19.10.1", prefixlen=24, guest_ip="198.19.10.11", guest_gw="198.19.10.1",
    peer_ip=ROUTED_UPLINK[1], build=lambda inst: build_routed(inst, asymmetric=True), forwarding=True,
    healthy_checks=_healthy(peer_both_ways=True),
)
VMWARE = Topology(
    name="vmware",
    summary="simulated VMware Workstation host: vmnet1 (host-only) and vmnet8 (NAT) with the guest on vmnet8",
    roles=(HOST, GUEST), host_if="vmnet8", port="vmnet8-vm0", bridge="vmnet8",
    host_ip="198.18.8.1", prefixlen=24, guest_ip="198.18.8.128", guest_gw="198.18.8.1",
    peer_ip=None, build=build_vmware, mac="00:0c:29:12:08:80", host_mac="00:50:56:c0:00:08",
    healthy_checks=_healthy(peer_both_ways=False, peer=False),
)
VIRTUALBOX = Topology(
    name="virtualbox",
    summary="simulated VirtualBox host-only network: vboxnet0 198.18.56.1/24, guest 198.18.56.101",
    roles=(HOST, GUEST), host_if="vboxnet0", port="vboxnet0", bridge=None,
    host_ip="198.18.56.1", prefixlen=24, guest_ip="198.18.56.101", guest_gw="198.18.56.1",
    peer_ip=None, build=build_virtualbox, mac="08:00:27:12:38:65", host_mac="0a:00:27:00:00:00",
    healthy_checks=_healthy(peer_both_ways=False, peer=False),
)

TOPOLOGIES: dict[str, Topology] = {
    t.name: t for t in (BRIDGED, NAT, ROUTED, ROUTED_ASYM, VMWARE, VIRTUALBOX)
}
