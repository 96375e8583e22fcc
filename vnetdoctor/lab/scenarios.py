"""The scenario catalogue: one topology plus one fault, injected the way it happens for real.

Each fault is implemented by what it *is* on a real host (an nft rule in the
guest, a sysctl, STP on the bridge, a rogue machine answering ARP), never by a
shortcut that only looks like it to vnetdoctor's probes, and each has a revert
that restores the healthy behaviour. The tests prove both with tools that are
not vnetdoctor's (see :mod:`.checks`). The faults themselves live in
:mod:`.link_faults` and :mod:`.ip_faults`; this module is the table that names them.

Scenario names are the cause ids they inject (``firewall.guest_blocks``), plus
``healthy*`` baselines (one per topology, no cause) and ``bpdu-guard`` (a second,
persistent way to get ``bridge.port_blocking``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vnetdoctor.knowledge.model import Request
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.knowledge.text import LANGS, texts, tr

from . import kernel
from .checks import DNS, DNS_NAME, LAB_PORT, PING, PING_DF_1400, TCP, Check, CheckSpec
from .ip_faults import (
    FORWARD_DROP,
    GUEST_ICMP_DROP,
    GUEST_TCP_DROP,
    _docker_style_forward_drop,
    _docker_style_undo,
    _drop_table,
    _guest_address_back,
    _guest_no_address,
    _guest_wrong_prefix,
    _host_if,
    _iptables_legacy_icmp,
    _masquerade_off,
    _masquerade_on,
    _nft_action,
    _rogue_gone,
    _rogue_up,
    _route_action,
    _start_dns,
    _start_tcp,
    _stop,
    _sysctl_action,
    _vbox_address,
    _vbox_no_address,
)
from .link_faults import (
    Action,
    _arp_blackhole,
    _arp_blackhole_off,
    _attach_port,
    _bpdu_guard_trip,
    _bridge_filter_on,
    _bridge_own_mac,
    _bridge_takes_guest_mac,
    _detach_port,
    _flood_off,
    _flood_on,
    _guest_nic_down,
    _guest_nic_return,
    _guest_nic_up,
    _guest_nic_vanish,
    _host_port_down,
    _host_port_up,
    _ip_blackhole,
    _mtu_normal,
    _mtu_small,
    _stp_listening,
    _stp_off,
    _vlan_match,
    _vlan_mismatch,
)
from .topologies import BRIDGED, NAT, ROUTED, TOPOLOGIES, VIRTUALBOX, VMWARE
from .topology import GUEST, HOST, WAN, Topology


@dataclass(frozen=True)
class DiagnoseSpec:
    """How ``vnetdoctor diagnose`` should be pointed at the fault."""

    from_side: str = "host"  # "host" | "guest"
    target: str = "guest"  # host / guest / peer (topology addresses)
    port: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A named topology + fault. ``cause`` is the cause id it injects (None: healthy)."""

    name: str
    cause: str | None
    topology: str
    check_specs: tuple[CheckSpec, ...]
    diagnose: DiagnoseSpec = DiagnoseSpec()
    inject: Action | None = None
    revert: Action | None = None
    needs: tuple[str, ...] = ()

    @property
    def topo(self) -> Topology:
        return TOPOLOGIES[self.topology]

    def describe(self, lang: str = "en") -> str:
        """What is broken and how, from ``knowledge/data/lab.toml`` (the one translator)."""
        return tr(f"scenario.{self.name}", lang)

    def note(self, lang: str = "en") -> str:
        """What cannot be simulated, a timing caveat: ``lab.toml [scenario_note]``, or ``""``."""
        key = f"scenario_note.{self.name}"
        return tr(key, lang) if key in texts() else ""

    def available(self) -> str | None:
        """None when the scenario can run here, else the one-line reason it cannot."""
        return kernel.missing(self.needs)

    def _resolve(self, spec: CheckSpec, prefix: str, expect_ok: bool | None = None) -> Check:
        topo = self.topo
        target = spec.dst if spec.kind == DNS else topo.address(spec.dst)
        answer = topo.host_ip if spec.kind == DNS and spec.dst == DNS_NAME else None
        return Check(
            spec.kind, f"{prefix}{spec.src}", target,
            spec.expect_ok if expect_ok is None else expect_ok,
            port=LAB_PORT if spec.kind == TCP else None,
            expect_reason=None if expect_ok else spec.expect_reason,
            expect_answer=answer,
        )

    def checks(self, prefix: str) -> list[Check]:
        """What the fault breaks (expect_ok False) and what it leaves working (True)."""
        return [self._resolve(s, prefix) for s in self.check_specs]

    def healthy_checks(self, prefix: str) -> list[Check]:
        """After a revert: the topology's healthy checks plus this scenario's, all passing."""
        out: list[Check] = []
        for spec in (*self.topo.healthy_checks, *self.check_specs):
            check = self._resolve(spec, prefix, expect_ok=True)
            if check not in out:
                out.append(check)
        return out

    def request(self, prefix: str, lang: str = "en") -> Request:
        """What to diagnose in this lab: a Request (validated by the session like any other)."""
        return Request(self.topo.address(self.diagnose.target), Vantage("netns", f"{prefix}{HOST}"),
                       Vantage("netns", f"{prefix}{GUEST}"), self.diagnose.from_side,
                       self.diagnose.port or None, lang)

    def diagnose_args(self, prefix: str) -> list[str]:
        """The same request as ``vnetdoctor diagnose`` options, for the command ``lab up`` shows."""
        return self.request(prefix).argv()

    def to_dict(self) -> dict[str, object]:
        reason = self.available()
        return {
            "name": self.name,
            "cause": self.cause,
            "topology": self.topology,
            "description": {lang: self.describe(lang) for lang in LANGS},
            "available": reason is None,
            "reason": reason or "",
            "notes": self.note("en"),
            "diagnose_args": self.diagnose_args("vnd-"),
            "checks": [c._asdict() for c in self.checks("vnd-")],
        }


# --- the catalogue -----------------------------------------------------------------------------

def _c(kind: str, src: str, dst: str, ok: bool, reason: str | None = None) -> CheckSpec:
    return CheckSpec(kind, src, dst, ok, reason)


H2G = _c(PING, HOST, "guest", False)
G2H = _c(PING, GUEST, "host", False)
G2P = _c(PING, GUEST, "peer", False)
H2G_OK = _c(PING, HOST, "guest", True)
G2H_OK = _c(PING, GUEST, "host", True)
TCP_OK = _c(TCP, HOST, "guest", True)
FROM_GUEST_TO_PEER = DiagnoseSpec("guest", "peer")


def _healthy(name: str, topo: Topology) -> Scenario:
    return Scenario(
        name=name, cause=None, topology=topo.name,
        check_specs=topo.healthy_checks,
        diagnose=DiagnoseSpec(port=LAB_PORT),
    )


_ALL: list[Scenario] = [
    _healthy("healthy", BRIDGED),
    _healthy("healthy-nat", NAT),
    _healthy("healthy-routed", ROUTED),
    _healthy("healthy-vmware", VMWARE),
    _healthy("healthy-virtualbox", VIRTUALBOX),
    Scenario(
        "link.host_if_down", "link.host_if_down", "bridged",
        (H2G, G2H), inject=_host_port_down, revert=_host_port_up,
    ),
    Scenario(
        "link.guest_if_down", "link.guest_if_down", "bridged",
        (H2G, G2H), inject=_guest_nic_down, revert=_guest_nic_up,
    ),
    Scenario(
        "guest.no_nic", "guest.no_nic", "bridged",
        (H2G,), inject=_guest_nic_vanish, revert=_guest_nic_return,
    ),
    Scenario(
        "bridge.port_detached", "bridge.port_detached", "bridged",
        (H2G, G2H), inject=_detach_port, revert=_attach_port,
    ),
    Scenario(
        "bridge.port_blocking", "bridge.port_blocking", "bridged",
        (H2G, G2H), inject=_stp_listening, revert=_stp_off,
    ),
    Scenario(
        "bpdu-guard", "bridge.port_blocking", "bridged",
        (H2G, G2H), inject=_bpdu_guard_trip, revert=_stp_off,
    ),
    Scenario(
        "bridge.flood_disabled", "bridge.flood_disabled", "bridged",
        (H2G, G2H, _c(PING, WAN, "guest", False)), inject=_flood_off, revert=_flood_on,
    ),
    Scenario(
        "firewall.bridge_filter", "firewall.bridge_filter", "bridged",
        (H2G, G2H, G2P), inject=_bridge_filter_on, revert=_drop_table(HOST, "bridge", "filter"),
        needs=(kernel.NFT,),
    ),
    Scenario(
        "vlan.mismatch", "vlan.mismatch", "bridged",
        (H2G, G2H), inject=_vlan_mismatch, revert=_vlan_match, needs=(kernel.VLAN,),
    ),
    Scenario(
        "mtu.mismatch", "mtu.mismatch", "bridged",
        (H2G_OK, _c(PING_DF_1400, HOST, "guest", False)), inject=_mtu_small, revert=_mtu_normal,
    ),
    Scenario(
        "mac.duplicate", "mac.duplicate", "bridged",
        (H2G, G2H), inject=_bridge_takes_guest_mac, revert=_bridge_own_mac,
    ),
    Scenario(
        "arp.suppressed", "arp.suppressed", "bridged",
        (H2G,), inject=_sysctl_action(GUEST, {"net.ipv4.conf.all.arp_ignore": 8}),
        revert=_sysctl_action(GUEST, {"net.ipv4.conf.all.arp_ignore": 0}),
    ),
    Scenario(
        "arp.unresolved", "arp.unresolved", "bridged",
        (H2G, G2H), inject=_arp_blackhole, revert=_arp_blackhole_off, needs=(kernel.TC_BPF,),
    ),
    Scenario(
        "kernel.drop_unexplained", "kernel.drop_unexplained", "bridged",
        (H2G, G2H), inject=_ip_blackhole, revert=_arp_blackhole_off, needs=(kernel.TC_BPF,),
    ),
    Scenario(
        "ip.no_address", "ip.no_address", "nat",
        (H2G,), inject=_guest_no_address, revert=_guest_address_back,
    ),
    Scenario(
        "ip.subnet_mismatch", "ip.subnet_mismatch", "bridged",
        (H2G, G2H), inject=_guest_wrong_prefix, revert=_guest_address_back,
    ),
    Scenario(
        "ip.duplicate", "ip.duplicate", "bridged",
        (H2G,), inject=_rogue_up, revert=_rogue_gone,
    ),
    Scenario(
        "route.missing", "route.missing", "nat",
        (G2P, H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_route_action("route del default"), revert=_route_action("route replace default via {gw}"),
    ),
    Scenario(
        "route.wrong_gateway", "route.wrong_gateway", "nat",
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_route_action("route replace default via 198.18.122.254"),
        revert=_route_action("route replace default via {gw}"),
    ),
    Scenario(
        "route.rp_filter", "route.rp_filter", "routed-asym",
        (G2P, H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_sysctl_action(HOST, {"net.ipv4.conf.all.rp_filter": 1}),
        revert=_sysctl_action(HOST, {"net.ipv4.conf.all.rp_filter": 0}),
    ),
    Scenario(
        "sysctl.icmp_echo_ignored", "sysctl.icmp_echo_ignored", "bridged",
        (H2G, G2H_OK, TCP_OK),
        inject=_sysctl_action(GUEST, {"net.ipv4.icmp_echo_ignore_all": 1}),
        revert=_sysctl_action(GUEST, {"net.ipv4.icmp_echo_ignore_all": 0}),
    ),
    Scenario(
        "sysctl.ip_forward_disabled", "sysctl.ip_forward_disabled", "nat",
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_sysctl_action(HOST, {"net.ipv4.ip_forward": 0}),
        revert=_sysctl_action(HOST, {"net.ipv4.ip_forward": 1}),
    ),
    Scenario(
        "firewall.host_blocks", "firewall.host_blocks", "bridged",
        (H2G, G2H, TCP_OK), inject=_iptables_legacy_icmp("-A"), revert=_iptables_legacy_icmp("-D"),
        needs=(kernel.IPTABLES_LEGACY,),
    ),
    Scenario(
        "firewall.guest_blocks", "firewall.guest_blocks", "bridged",
        (H2G, G2H_OK, TCP_OK), inject=_nft_action(GUEST, GUEST_ICMP_DROP),
        revert=_drop_table(GUEST, "inet", "filter"), needs=(kernel.NFT,),
    ),
    Scenario(
        "firewall.forward_blocks", "firewall.forward_blocks", "nat",
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER, inject=_nft_action(HOST, FORWARD_DROP),
        revert=_drop_table(HOST, "inet", "filter"), needs=(kernel.NFT,),
    ),
    Scenario(
        "firewall.br_netfilter_drop", "firewall.br_netfilter_drop", "bridged",
        (G2P, _c(PING, WAN, "guest", False), H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_docker_style_forward_drop, revert=_docker_style_undo,
        needs=(kernel.BR_NETFILTER_NETNS, kernel.IPTABLES_NFT, kernel.NFT),
    ),
    Scenario(
        "nat.masquerade_missing", "nat.masquerade_missing", "nat",
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER, inject=_masquerade_off, revert=_masquerade_on,
        needs=(kernel.NFT,),
    ),
    Scenario(
        "tcp.port_closed", "tcp.port_closed", "bridged",
        (_c(TCP, HOST, "guest", False, "refused"), H2G_OK), diagnose=DiagnoseSpec(port=LAB_PORT),
        inject=_stop("tcp"), revert=_start_tcp,
    ),
    Scenario(
        "tcp.port_filtered", "tcp.port_filtered", "bridged",
        (_c(TCP, HOST, "guest", False, "timeout"), H2G_OK), diagnose=DiagnoseSpec(port=LAB_PORT),
        inject=_nft_action(GUEST, GUEST_TCP_DROP), revert=_drop_table(GUEST, "inet", "filter"),
        needs=(kernel.NFT,),
    ),
    Scenario(
        "dns.unresolvable", "dns.unresolvable", "nat",
        (_c(DNS, GUEST, DNS_NAME, False, "unresolved"), G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_stop("dns"), revert=_start_dns,
    ),
    Scenario(
        "vmware.vmnet_down", "vmware.vmnet_down", "vmware",
        (H2G, G2H), inject=_host_if("down"), revert=_host_if("up"),
    ),
    Scenario(
        "virtualbox.hostonly_down", "virtualbox.hostonly_down", "virtualbox",
        (H2G, G2H), inject=_vbox_no_address, revert=_vbox_address,
    ),
]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}

# Causes whose lab column says "yes" or "simulated" all have a scenario; libvirt.* are
# covered by the libvirt test driver instead and are deliberately absent.
CAUSES_WITH_SCENARIO = frozenset(s.cause for s in _ALL if s.cause)


def by_cause(cause: str) -> list[Scenario]:
    return [s for s in _ALL if s.cause == cause]
