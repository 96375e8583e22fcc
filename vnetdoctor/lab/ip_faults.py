"""The faults from IP up: the guest's address and prefix, a rogue machine owning
the guest's address, routes, sysctls, firewalls (nft, iptables, Docker's FORWARD
policy), libvirt's masquerade, the lab's two services and the host's interface.

Like :mod:`.link_faults` (whose building blocks these use), each is what the fault
*is* on a real host and comes with a revert that restores the healthy behaviour;
:mod:`.scenarios` is the table that names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .checks import LAB_PORT
from .link_faults import Action, _flush_neighbours, _guest_addr_lines, _t
from .ops import arp_frame
from .topology import GUEST, HOST, ROGUE, WAN, tap_mac
from .topology_build import masquerade_rules

if TYPE_CHECKING:
    from .lifecycle import LabInstance


# network

def _guest_no_address(inst: LabInstance) -> None:
    inst.ip(GUEST, "addr flush dev eth0")


def _guest_address_back(inst: LabInstance) -> None:
    inst.ip(GUEST, *_guest_addr_lines(_t(inst)))


def _guest_wrong_prefix(inst: LabInstance) -> None:
    # 255.255.255.248 typed for 255.255.255.0: the host and the gateway fall outside the guest's /29
    topo = _t(inst)
    inst.ip(GUEST, "addr flush dev eth0", f"addr add {topo.guest_ip}/29 dev eth0")


ROGUE_IP_MAC = "52:54:00:de:ad:0b"


def _rogue_up(inst: LabInstance) -> None:
    """Another machine on the bridge configured with the guest's address, which wins ARP."""
    topo = _t(inst)
    inst.create((ROGUE,), [
        (
            f"link add vnet9 netns {inst.ns(HOST)} address {tap_mac('198.18.0.99')} type veth "
            f"peer name eth0 netns {inst.ns(ROGUE)} address {ROGUE_IP_MAC}"
        ),
    ])
    inst.sysctl(ROGUE, {
        "net.ipv6.conf.all.disable_ipv6": 1,
        "net.ipv6.conf.default.disable_ipv6": 1,
        "net.ipv4.icmp_echo_ignore_all": 1,  # it answers ARP but not ping
    })
    inst.ip(ROGUE, "link set lo up", "link set eth0 up", f"addr add {topo.guest_ip}/{topo.prefixlen} dev eth0")
    inst.ip(HOST, f"link set vnet9 master {topo.bridge} up")
    # It talks first: "who has <host>? tell <guest ip>" makes the host point the guest's
    # address at the rogue's MAC; the gratuitous ARP overrides any entry elsewhere.
    inst.send_frames(ROGUE, "eth0", [
        arp_frame(ROGUE_IP_MAC, topo.guest_ip, topo.host_ip),
        arp_frame(ROGUE_IP_MAC, topo.guest_ip, topo.guest_ip),
    ])
    inst.start_announcer(ROGUE, "eth0", ROGUE_IP_MAC, topo.guest_ip, topo.host_ip)


def _rogue_gone(inst: LabInstance) -> None:
    inst.stop_server("announce")
    # Unplug it first: a deleted namespace is torn down asynchronously (under load, long
    # after `ip netns del` returned) and would go on answering ARP from the bridge meanwhile.
    inst.ip(HOST, "link del vnet9")
    inst.destroy(ROGUE)
    _flush_neighbours(inst, HOST, GUEST, WAN)


def _route_action(*lines: str) -> Action:
    def apply(inst: LabInstance) -> None:
        topo = _t(inst)
        inst.ip(GUEST, *(line.format(gw=topo.guest_gw) for line in lines))

    return apply


def _iptables_legacy_icmp(op: str) -> Action:
    def apply(inst: LabInstance) -> None:
        inst.run(HOST, ["iptables-legacy", "-w", op, "INPUT", "-p", "icmp", "-j", "DROP"])

    return apply


GUEST_ICMP_DROP = """
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    icmp type echo-request counter drop
  }
}
"""

GUEST_TCP_DROP = f"""
table inet filter {{
  chain input {{
    type filter hook input priority filter; policy accept;
    tcp dport {LAB_PORT} counter drop
  }}
}}
"""

FORWARD_DROP = """
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
"""


def _drop_table(role: str, family: str, table: str) -> Action:
    def drop(inst: LabInstance) -> None:
        inst.nft(role, f"delete table {family} {table}\n")

    return drop


def _sysctl_action(role: str, settings: dict[str, int]) -> Action:
    def apply(inst: LabInstance) -> None:
        inst.sysctl(role, settings)

    return apply


def _nft_action(role: str, script: str) -> Action:
    def apply(inst: LabInstance) -> None:
        inst.nft(role, script)

    return apply


def _docker_style_forward_drop(inst: LabInstance) -> None:
    # what loading br_netfilter and starting dockerd does to a bridged KVM host
    inst.sysctl(HOST, {"net.bridge.bridge-nf-call-iptables": 1, "net.bridge.bridge-nf-call-ip6tables": 1})
    inst.run(HOST, ["iptables-nft", "-w", "-P", "FORWARD", "DROP"])


def _docker_style_undo(inst: LabInstance) -> None:
    inst.run(HOST, ["iptables-nft", "-w", "-P", "FORWARD", "ACCEPT"])
    inst.nft(HOST, "delete table ip filter\n")
    inst.sysctl(HOST, {"net.bridge.bridge-nf-call-iptables": 0, "net.bridge.bridge-nf-call-ip6tables": 0})


def _masquerade_off(inst: LabInstance) -> None:
    inst.nft(HOST, "flush chain ip libvirt_network guest_nat\n")


def _masquerade_on(inst: LabInstance) -> None:
    rules = masquerade_rules(_t(inst).subnet).splitlines()
    inst.nft(HOST, "".join(f"add rule ip libvirt_network guest_nat {r.strip()}\n" for r in rules))


def _stop(name: str) -> Action:
    def apply(inst: LabInstance) -> None:
        inst.stop_server(name)

    return apply


def _start_tcp(inst: LabInstance) -> None:
    inst.start_tcp_listener()


def _start_dns(inst: LabInstance) -> None:
    inst.start_dns_responder()


def _host_if(op: str) -> Action:
    def apply(inst: LabInstance) -> None:
        inst.ip(HOST, f"link set {_t(inst).host_if} {op}")

    return apply


def _vbox_no_address(inst: LabInstance) -> None:
    inst.ip(HOST, "addr flush dev vboxnet0")


def _vbox_address(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"addr add {topo.host_ip}/{topo.prefixlen} dev vboxnet0")
