"""The faults below IP: the guest's NIC, its tap, the bridge (port, STP, BPDU guard,
flooding, a bridge filter, the bridge's MAC, VLANs), the MTU and frames dropped
before IP sees them; plus what every fault is built from (:data:`Action`, the
topology of an instance, forgetting neighbours).

Each fault is implemented by what it *is* on a real host (an nft rule in the
guest, a sysctl, STP on the bridge, a rogue machine answering ARP), never by a
shortcut that only looks like it to vnetdoctor's probes, and each has a revert
that restores the healthy behaviour. The faults live apart from :mod:`.scenarios`
so the commands that break things sit apart from the table that names them, and
are split by layer: these, and :mod:`.ip_faults` from IP up, which builds on them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vnetdoctor.knowledge.text import tr

from .ops import LabError, stp_config_bpdu
from .topology import GUEST, HOST, PARK, WAN, Topology

if TYPE_CHECKING:
    from .lifecycle import LabInstance


Action = Callable[["LabInstance"], None]


# --- fault building blocks -----------------------------------------------------------------

def _t(inst: LabInstance) -> Topology:
    return inst.topology


def _flush_neighbours(inst: LabInstance, *roles: str) -> None:
    """Forget resolved neighbours, as caches do by themselves after a while.

    Used where a fault changes who answers for an address or a MAC: without it
    the stale entry hides the fault (or the repair) for up to a minute.
    """
    for role in roles:
        if inst.ns(role) in inst.namespaces:
            inst.ip(role, "neigh flush all")


def _guest_addr_lines(topo: Topology, prefixlen: int | None = None) -> list[str]:
    return [
        "addr flush dev eth0",
        f"addr add {topo.guest_ip}/{prefixlen or topo.prefixlen} dev eth0",
        f"route replace default via {topo.guest_gw}",
    ]


def _wait_port_state(inst: LabInstance, port: str, wanted: str, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    seen = "?"
    while time.monotonic() < deadline:
        out = inst.run(HOST, ["bridge", "-j", "link", "show", "dev", port])
        try:
            seen = json.loads(out or "[]")[0].get("state", "?")
        except (ValueError, IndexError, AttributeError):
            seen = "?"
        if seen == wanted:
            return
        time.sleep(0.02)
    raise LabError(tr("labcli.port_state", port=port, seen=seen, wanted=wanted, seconds=f"{timeout:.0f}"))


# physical

def _host_port_down(inst: LabInstance) -> None:
    inst.ip(HOST, f"link set {_t(inst).port} down")


def _host_port_up(inst: LabInstance) -> None:
    inst.ip(HOST, f"link set {_t(inst).port} up")


def _guest_nic_down(inst: LabInstance) -> None:
    inst.ip(GUEST, "link set eth0 down")


def _guest_nic_up(inst: LabInstance) -> None:
    # the default route went away with the link: put it back as the guest's ifup would
    inst.ip(GUEST, "link set eth0 up", f"route replace default via {_t(inst).guest_gw}")


def _guest_nic_vanish(inst: LabInstance) -> None:
    """The device exists on the host side (tap up, carrier) but no driver binds it in the guest."""
    inst.create((PARK,), [])
    inst.sysctl(PARK, {"net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1})
    inst.ip(GUEST, f"link set eth0 netns {inst.ns(PARK)}")
    inst.ip(PARK, "link set eth0 up")  # QEMU keeps the tap's carrier up whatever the guest does


def _guest_nic_return(inst: LabInstance) -> None:
    inst.ip(PARK, f"link set eth0 netns {inst.ns(GUEST)}")
    inst.ip(GUEST, "link set eth0 up", *_guest_addr_lines(_t(inst)))
    inst.destroy(PARK)


# data link

def _detach_port(inst: LabInstance) -> None:
    inst.ip(HOST, f"link set {_t(inst).port} nomaster")


def _attach_port(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.port} master {topo.bridge} up")


def _stp_listening(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(
        HOST,
        f"link set {topo.bridge} type bridge forward_delay 3000 stp_state 1",
        f"link set {topo.port} down",  # the guest rebooting: its port re-enters STP from scratch
        f"link set {topo.port} up",
    )
    _wait_port_state(inst, topo.port, "listening")


def _stp_off(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.bridge} type bridge stp_state 0 forward_delay 1500")
    # with STP off the kernel leaves the port's last state; forwarding is what it should be
    inst.bridge(HOST, f"link set dev {topo.port} state 3 guard off")
    _wait_port_state(inst, topo.port, "forwarding")


def _bpdu_guard_trip(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.bridge} type bridge stp_state 1")
    inst.bridge(HOST, f"link set dev {topo.port} guard on")
    # the guest runs something that speaks STP (a nested bridge, a misconfigured VM router)
    inst.send_frames(GUEST, "eth0", [stp_config_bpdu(topo.guest_mac)])
    _wait_port_state(inst, topo.port, "disabled")


def _flood_off(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.bridge(HOST, f"link set dev {topo.port} learning off flood off mcast_flood off bcast_flood off")
    # no static fdb entry for the guest (what libvirt's macTableManager would add)
    inst.run(HOST, ["bridge", "fdb", "del", topo.guest_mac, "dev", topo.port, "master"], check=False)
    _flush_neighbours(inst, HOST, GUEST, WAN)


def _flood_on(inst: LabInstance) -> None:
    inst.bridge(HOST, f"link set dev {_t(inst).port} learning on flood on mcast_flood on bcast_flood on")


BRIDGE_FILTER = """
table bridge filter {
  chain INPUT {
    type filter hook input priority filter; policy accept;
    iifname "%(port)s" ether type ip counter drop
  }
  chain FORWARD {
    type filter hook forward priority filter; policy accept;
    iifname "%(port)s" ether type ip counter drop
    oifname "%(port)s" ether type ip counter drop
  }
  chain OUTPUT {
    type filter hook output priority filter; policy accept;
    oifname "%(port)s" ether type ip counter drop
  }
}
"""


def _bridge_filter_on(inst: LabInstance) -> None:
    inst.nft(HOST, BRIDGE_FILTER % {"port": _t(inst).port})


def _mtu_small(inst: LabInstance) -> None:
    inst.ip(GUEST, "link set eth0 mtu 1280")


def _mtu_normal(inst: LabInstance) -> None:
    inst.ip(GUEST, "link set eth0 mtu 1500")


def _bridge_takes_guest_mac(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.bridge} address {topo.guest_mac}")
    _flush_neighbours(inst, HOST, GUEST, WAN)


def _bridge_own_mac(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.bridge} address {topo.bridge_mac}")
    _flush_neighbours(inst, HOST, GUEST, WAN)


ARP_DROP_BPF = "1,6 0 0 2,"  # classic BPF, one instruction: ret #2 (TC_ACT_SHOT in direct-action)


def _guest_ingress_drop(inst: LabInstance, protocol: str) -> None:
    inst.tc(
        GUEST,
        "qdisc add dev eth0 clsact",
        f'filter add dev eth0 ingress protocol {protocol} prio 1 bpf bytecode "{ARP_DROP_BPF}" da',
    )


def _arp_blackhole(inst: LabInstance) -> None:
    _guest_ingress_drop(inst, "arp")


def _arp_blackhole_off(inst: LabInstance) -> None:
    inst.tc(GUEST, "qdisc del dev eth0 clsact")


def _ip_blackhole(inst: LabInstance) -> None:
    """The same one-instruction drop, for every IPv4 frame: no rule, sysctl or setting shows it."""
    _guest_ingress_drop(inst, "ip")


def _vlan_mismatch(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.ip(HOST, f"link set {topo.bridge} type bridge vlan_filtering 1")
    inst.bridge(HOST, f"vlan del dev {topo.port} vid 1", f"vlan add dev {topo.port} vid 10 pvid untagged")


def _vlan_match(inst: LabInstance) -> None:
    topo = _t(inst)
    inst.bridge(HOST, f"vlan del dev {topo.port} vid 10", f"vlan add dev {topo.port} vid 1 pvid untagged")
    inst.ip(HOST, f"link set {topo.bridge} type bridge vlan_filtering 0")
