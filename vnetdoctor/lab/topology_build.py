"""How a topology is built: namespaces, veth pairs, bridges, addresses, sysctls,
libvirt's NAT rules and the two services, all inside the lab's own namespaces.

Each builder reads the topology it builds from ``inst.topology`` (the record in
:mod:`.topology`), so the catalogue in :mod:`.topologies` only points at the
builder. The host is always the namespace ``{P}host``, never the caller's own,
and only 198.18.0.0/15 and the documentation ranges are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .topology import DNS_ZONE, GUEST, HOST, WAN, Topology, host_mac

if TYPE_CHECKING:
    from .lifecycle import LabInstance

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


def build_bridged(inst: LabInstance) -> None:
    topo = inst.topology
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


def build_nat(inst: LabInstance) -> None:
    topo = inst.topology
    up_host, up_peer, plen = NAT_UPLINK
    _bridge_guest(inst, topo, uplink_to_bridge=False)
    inst.ip(HOST, "link set eth0 up", f"addr add {up_host}/{plen} dev eth0", f"route add default via {up_peer}")
    # The outside peer has no route back to the guest subnet: only masquerade gets replies home.
    inst.ip(WAN, "link set lo up", "link set eth0 up", f"addr add {up_peer}/{plen} dev eth0")
    inst.nft(HOST, libvirt_nat_rules(topo.subnet, "virbr0"))
    _services(inst, topo)


ROUTED_UPLINK = ("198.51.100.1", "198.51.100.254", 24)
ASYM_UPLINK = ("203.0.113.1", "203.0.113.254", 24)


def build_routed(inst: LabInstance, asymmetric: bool = False) -> None:
    topo = inst.topology
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


def build_vmware(inst: LabInstance) -> None:
    topo = inst.topology
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


def build_virtualbox(inst: LabInstance) -> None:
    topo = inst.topology
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
