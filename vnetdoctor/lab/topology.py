"""The lab's topologies: what a KVM/libvirt, VMware or VirtualBox guest and its host
look like from the host, rebuilt from network namespaces, veth pairs and bridges.

The "host" is always the namespace ``{P}host`` and never the caller's own
namespace. Addresses come only from 198.18.0.0/15 and the documentation ranges;
MAC addresses are fixed (guests use QEMU's 52:54:00 prefix, taps libvirt's
``fe:`` variant of the guest MAC) so that recorded sessions of two runs compare.

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

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checks import DNS, DNS_NAME, PING, PING_DF_1400, TCP, CheckSpec

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


# --- building blocks --------------------------------------------------------------------

def _baseline(inst: LabInstance, role: str, *, forwarding: bool = False, bridge_nf: bool = False) -> None:
    """Sysctls every lab namespace gets, so the lab behaves the same on any host.

    IPv6 is off (the cause catalogue is about IPv4, and router solicitations and
    DAD would only clutter packet views); rp_filter is 0 on every interface
    whatever the host's ``devconf_inherit_init_net`` copied in; the host
    namespace starts like a host without br_netfilter (bridged frames do not
    traverse iptables) unless a fault says otherwise.
    """
    settings: list[tuple[str, str | int]] = [
        ("net.ipv6.conf.all.disable_ipv6", 1),
        ("net.ipv6.conf.default.disable_ipv6", 1),
        ("net.ipv4.ip_forward", 1 if forwarding else 0),
        ("net.ipv4.conf.all.rp_filter", 0),
        ("net.ipv4.conf.default.rp_filter", 0),
    ]
    if role == HOST and inst.has_bridge_sysctls():
        flag = 1 if bridge_nf else 0
        settings += [
            ("net.bridge.bridge-nf-call-iptables", flag),
            ("net.bridge.bridge-nf-call-ip6tables", flag),
            ("net.bridge.bridge-nf-call-arptables", flag),
        ]
    inst.sysctl(role, settings)
    inst.sysctl_each_interface(role, "rp_filter", 0)


def _guest_lines(topo: Topology, ifname: str = "eth0") -> list[str]:
    return [
        "link set lo up",
        f"link set {ifname} up",
        f"addr add {topo.guest_ip}/{topo.prefixlen} dev {ifname}",
        f"route add default via {topo.guest_gw}",
    ]


def _services(inst: LabInstance, topo: Topology) -> None:
    """The guest's TCP listener and the host's DNS responder, plus the guest's resolv.conf."""
    inst.write_etc_netns(GUEST, {
        "resolv.conf": (
            f"# written by vnetdoctor lab: the guest's resolver is the host ({topo.host_if})\n"
            f"nameserver {topo.host_ip}\nsearch {DNS_ZONE}\noptions timeout:1 attempts:1\n"
        ),
    })
    inst.start_tcp_listener()
    inst.start_dns_responder()


def _bridge_guest(
    inst: LabInstance, topo: Topology, uplink_to_bridge: bool, extra_links: tuple[str, ...] = ()
) -> None:
    """Host bridge + tap/veth to the guest + an uplink veth to the wan namespace."""
    h, g, w = inst.ns(HOST), inst.ns(GUEST), inst.ns(WAN)
    assert topo.bridge
    inst.create(
        (HOST, GUEST, WAN),
        [
            f"link add {topo.bridge} netns {h} address {topo.bridge_mac} type bridge stp_state 0",
            (
                f"link add {topo.port} netns {h} address {topo.port_mac} type veth "
                f"peer name eth0 netns {g} address {topo.guest_mac}"
            ),
            f"link add eth0 netns {h} type veth peer name eth0 netns {w}",
            *extra_links,
        ],
    )
    for role in (HOST, GUEST, WAN):
        _baseline(inst, role, forwarding=topo.forwarding and role == HOST)
    host = [
        "link set lo up",
        f"link set {topo.bridge} up",
        f"link set {topo.port} master {topo.bridge} up",
        f"addr add {topo.host_ip}/{topo.prefixlen} dev {topo.bridge}",
    ]
    if uplink_to_bridge:
        host += ["link set eth0 master " + topo.bridge + " up"]
    inst.ip(HOST, *host)
    inst.ip(GUEST, *_guest_lines(topo))


def _build_bridged(inst: LabInstance) -> None:
    topo = BRIDGED
    _bridge_guest(inst, topo, uplink_to_bridge=True)
    inst.ip(HOST, f"route add default via {topo.peer_ip}")
    inst.ip(WAN, "link set lo up", "link set eth0 up", f"addr add {topo.peer_ip}/{topo.prefixlen} dev eth0")
    _services(inst, topo)


NAT_UPLINK = ("203.0.113.1", "203.0.113.254", 24)


def libvirt_nat_rules(subnet: str, bridge: str) -> str:
    """The rules libvirt's nftables backend installs for a NAT network (abridged)."""
    return f"""
table ip libvirt_network {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
    counter jump guest_cross
    counter jump guest_input
    counter jump guest_output
  }}
  chain guest_output {{
    ip saddr {subnet} iifname "{bridge}" counter accept
    iifname "{bridge}" counter reject
  }}
  chain guest_input {{
    oifname "{bridge}" ip daddr {subnet} ct state established,related counter accept
    oifname "{bridge}" counter reject
  }}
  chain guest_cross {{
    iifname "{bridge}" oifname "{bridge}" counter accept
  }}
  chain guest_nat {{
    type nat hook postrouting priority srcnat; policy accept;
{masquerade_rules(subnet)}
  }}
}}
"""


def masquerade_rules(subnet: str) -> str:
    return "\n".join(f"    {rule}" for rule in (
        f"ip saddr {subnet} ip daddr 224.0.0.0/24 counter return",
        f"ip saddr {subnet} ip daddr 255.255.255.255 counter return",
        f"meta l4proto tcp ip saddr {subnet} ip daddr != {subnet} counter masquerade to :1024-65535",
        f"meta l4proto udp ip saddr {subnet} ip daddr != {subnet} counter masquerade to :1024-65535",
        f"ip saddr {subnet} ip daddr != {subnet} counter masquerade",
    ))


def _build_nat(inst: LabInstance) -> None:
    topo = NAT
    up_host, up_peer, plen = NAT_UPLINK
    _bridge_guest(inst, topo, uplink_to_bridge=False)
    inst.ip(HOST, "link set eth0 up", f"addr add {up_host}/{plen} dev eth0", f"route add default via {up_peer}")
    # The outside peer has no route back to the guest subnet: only masquerade gets replies home.
    inst.ip(WAN, "link set lo up", "link set eth0 up", f"addr add {up_peer}/{plen} dev eth0")
    inst.nft(HOST, libvirt_nat_rules(topo.subnet, "virbr0"))
    _services(inst, topo)


ROUTED_UPLINK = ("198.51.100.1", "198.51.100.254", 24)
ASYM_UPLINK = ("203.0.113.1", "203.0.113.254", 24)


def _build_routed(inst: LabInstance, asymmetric: bool = False) -> None:
    topo = ROUTED_ASYM if asymmetric else ROUTED
    up_host, up_peer, plen = ROUTED_UPLINK
    extra: tuple[str, ...] = ()
    a_host, a_peer, a_plen = ASYM_UPLINK
    if asymmetric:  # the second host NIC
        extra = (f"link add eth1 netns {inst.ns(HOST)} address {host_mac(a_host)} type veth "
                 f"peer name eth1 netns {inst.ns(WAN)}",)
    _bridge_guest(inst, topo, uplink_to_bridge=False, extra_links=extra)
    inst.ip(HOST, "link set eth0 up", f"addr add {up_host}/{plen} dev eth0", f"route add default via {up_peer}")
    wan = ["link set lo up", "link set eth0 up", f"addr add {up_peer}/{plen} dev eth0"]
    if asymmetric:
        inst.ip(HOST, "link set eth1 up", f"addr add {a_host}/{a_plen} dev eth1")
        # The peer sends replies for the guest subnet over the *other* link. Like an upstream
        # router that has long known the host, it has the host's eth1 MAC already: it must not
        # need ARP, which rp_filter would also stop (arp_process checks the reverse path), so the
        # replies themselves reach eth1 and the kernel drops them there (IP_RPFILTER).
        wan += ["link set eth1 up", f"addr add {a_peer}/{a_plen} dev eth1", f"route add {topo.subnet} via {a_host}",
                f"neigh replace {a_host} lladdr {host_mac(a_host)} dev eth1 nud permanent"]
    else:
        wan += [f"route add {topo.subnet} via {up_host}"]
    inst.ip(WAN, *wan)
    _services(inst, topo)


def _build_vmware(inst: LabInstance) -> None:
    topo = VMWARE
    h, g = inst.ns(HOST), inst.ns(GUEST)
    inst.create(
        (HOST, GUEST),
        [
            f"link add vmnet8 netns {h} address {topo.bridge_mac} type bridge stp_state 0",
            f"link add vmnet1 netns {h} address 00:50:56:c0:00:01 type bridge stp_state 0",
            (
                f"link add {topo.port} netns {h} address {topo.port_mac} type veth "
                f"peer name eth0 netns {g} address {topo.guest_mac}"
            ),
            # vmnet1 (host-only) has no guest here; a hub port keeps its carrier up as on a real host
            f"link add vmnet1-hub netns {h} type veth peer name vmnet1-vm0 netns {h}",
        ],
    )
    _baseline(inst, HOST)
    _baseline(inst, GUEST)
    inst.ip(
        HOST,
        "link set lo up",
        "link set vmnet8 up",
        f"link set {topo.port} master vmnet8 up",
        f"addr add {topo.host_ip}/{topo.prefixlen} dev vmnet8",
        "link set vmnet1 up",
        "link set vmnet1-hub master vmnet1 up",
        "link set vmnet1-vm0 up",
        "addr add 198.18.1.1/24 dev vmnet1",
    )
    inst.ip(GUEST, *_guest_lines(topo))
    _services(inst, topo)


def _build_virtualbox(inst: LabInstance) -> None:
    topo = VIRTUALBOX
    h, g = inst.ns(HOST), inst.ns(GUEST)
    inst.create(
        (HOST, GUEST),
        [
            (
                f"link add vboxnet0 netns {h} address {topo.bridge_mac} type veth "
                f"peer name eth0 netns {g} address {topo.guest_mac}"
            ),
        ],
    )
    _baseline(inst, HOST)
    _baseline(inst, GUEST)
    inst.ip(HOST, "link set lo up", "link set vboxnet0 up", f"addr add {topo.host_ip}/{topo.prefixlen} dev vboxnet0")
    inst.ip(GUEST, *_guest_lines(topo))
    _services(inst, topo)


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
    peer_ip="198.18.0.254", build=_build_bridged,
    healthy_checks=_healthy(peer_both_ways=True),
)
NAT = Topology(
    name="nat",
    summary="libvirt default-style NAT network: virbr0 198.18.122.1/24, masquerade out of eth0",
    roles=(HOST, GUEST, WAN), host_if="virbr0", port="vnet0", bridge="virbr0",
    host_ip="198.18.122.1", prefixlen=24, guest_ip="198.18.122.11", guest_gw="198.18.122.1",
    peer_ip=NAT_UPLINK[1], build=_build_nat, forwarding=True,
    healthy_checks=_healthy(peer_both_ways=False),
)
ROUTED = Topology(
    name="routed",
    summary="routed network: guest subnet 198.19.10.0/24 on virbr1, routed (not NATed) by the host",
    roles=(HOST, GUEST, WAN), host_if="virbr1", port="vnet0", bridge="virbr1",
    host_ip="198.19.10.1", prefixlen=24, guest_ip="198.19.10.11", guest_gw="198.19.10.1",
    peer_ip=ROUTED_UPLINK[1], build=_build_routed, forwarding=True,
    healthy_checks=_healthy(peer_both_ways=True),
)
ROUTED_ASYM = Topology(
    name="routed-asym",
    summary="routed network on a two-NIC host: requests leave by eth0, the peer answers via eth1",
    roles=(HOST, GUEST, WAN), host_if="virbr1", port="vnet0", bridge="virbr1",
    host_ip="198.19.10.1", prefixlen=24, guest_ip="198.19.10.11", guest_gw="198.19.10.1",
    peer_ip=ROUTED_UPLINK[1], build=lambda inst: _build_routed(inst, asymmetric=True), forwarding=True,
    healthy_checks=_healthy(peer_both_ways=True),
)
VMWARE = Topology(
    name="vmware",
    summary="simulated VMware Workstation host: vmnet1 (host-only) and vmnet8 (NAT) with the guest on vmnet8",
    roles=(HOST, GUEST), host_if="vmnet8", port="vmnet8-vm0", bridge="vmnet8",
    host_ip="198.18.8.1", prefixlen=24, guest_ip="198.18.8.128", guest_gw="198.18.8.1",
    peer_ip=None, build=_build_vmware, mac="00:0c:29:12:08:80", host_mac="00:50:56:c0:00:08",
    healthy_checks=_healthy(peer_both_ways=False, peer=False),
)
VIRTUALBOX = Topology(
    name="virtualbox",
    summary="simulated VirtualBox host-only network: vboxnet0 198.18.56.1/24, guest 198.18.56.101",
    roles=(HOST, GUEST), host_if="vboxnet0", port="vboxnet0", bridge=None,
    host_ip="198.18.56.1", prefixlen=24, guest_ip="198.18.56.101", guest_gw="198.18.56.1",
    peer_ip=None, build=_build_virtualbox, mac="08:00:27:12:38:65", host_mac="0a:00:27:00:00:00",
    healthy_checks=_healthy(peer_both_ways=False, peer=False),
)

TOPOLOGIES: dict[str, Topology] = {
    t.name: t for t in (BRIDGED, NAT, ROUTED, ROUTED_ASYM, VMWARE, VIRTUALBOX)
}
