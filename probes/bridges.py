"""The Linux bridge between host and guest: ``bridge.list|ports|fdb|vlans``.

The data-link layer's usual culprits live here: a tap that is not a port of
the bridge (``bridge.port_detached``), a port STP keeps in listening/blocking
(``bridge.port_blocking``), flooding switched off so ARP requests never reach the
guest (``bridge.flood_disabled``), ``nf_call_iptables`` sending bridged frames
through a FORWARD DROP policy, and VLAN filtering that drops the guest's tag.

All of it comes from netlink: bridge options from the (lean) link dump's
IFLA_INFO_DATA; through pyroute2, per-port STP state and flags from an AF_BRIDGE
link dump's IFLA_PROTINFO (``IPRoute.brport``, what ``bridge link`` reads), the
forwarding database from an AF_BRIDGE neighbour dump (``IPRoute.fdb``), VLANs
from IFLA_AF_SPEC (``IPRoute.get_vlans``).
"""

from __future__ import annotations

from .base import ProbeOutput, Skip, probe
from .iproute_json import clip
from .netlink_decode import bridge_rows, bridge_supports_vlans
from .netlink_query import interface_names, link_dump, with_rtnl
from .netlink_rows import bridge_port_rows, fdb_rows, vlan_rows
from .nsexec import call_in
from .rows import BridgePortRow, BridgeRow, BridgeVlanRow, FdbRow
from .vantage import Vantage

NO_VLAN_SUPPORT = (
    "this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING is off): "
    "bridges report no VLAN data"
)


def _bridges_here() -> list[BridgeRow]:
    return bridge_rows(link_dump())


def _ports_here() -> list[BridgePortRow]:
    return with_rtnl(
        "netlink bridge port dump",
        lambda ipr: bridge_port_rows(ipr.brport("dump"), interface_names()),
    )


def _fdb_here() -> list[FdbRow]:
    return with_rtnl("netlink fdb dump", lambda ipr: fdb_rows(ipr.fdb("dump"), interface_names()))


def _vlans_here() -> list[BridgeVlanRow] | None:
    """The VLAN rows, or None when the kernel cannot answer (no VLAN filtering built in)."""
    bridges = [link for link in link_dump() if link.kind == "bridge"]
    if not bridges:
        return []
    if not any(bridge_supports_vlans(link) for link in bridges):
        return None
    return with_rtnl(
        "netlink bridge VLAN dump", lambda ipr: vlan_rows(ipr.get_vlans(), interface_names())
    )


@probe(
    "bridge.list",
    layer="datalink",
    title="Bridges: STP, forward delay, VLAN filtering, br_netfilter",
)
def bridge_list(vantage: Vantage) -> ProbeOutput:
    rows = call_in(vantage, _bridges_here)
    raw = "\n".join(
        f"{r.name}: stp {'on' if r.stp_enabled else 'off'} forward_delay {r.forward_delay_s:g}s "
        f"ageing {r.ageing_time_s:g}s vlan_filtering {int(r.vlan_filtering)} "
        f"nf_call_iptables {int(r.nf_call_iptables)}"
        for r in rows
    )
    return ProbeOutput(rows=tuple(rows), raw=raw)


@probe(
    "bridge.ports",
    layer="datalink",
    title="Bridge ports: STP state, flooding, learning, BPDU guard",
)
def bridge_ports(vantage: Vantage) -> ProbeOutput:
    rows = call_in(vantage, _ports_here)
    raw = "\n".join(
        f"{r.port} master {r.bridge} state {r.state} flood {int(r.flood)} "
        f"bcast_flood {int(r.bcast_flood)} "
        f"mcast_flood {int(r.mcast_flood)} learning {int(r.learning)} guard {int(r.bpdu_guard)} "
        f"cost {r.cost} priority {r.priority} {'up' if r.oper_up else 'down'}"
        for r in rows
    )
    return ProbeOutput(rows=tuple(rows), raw=raw)


@probe("bridge.fdb", layer="datalink", title="Bridge forwarding database (learned and local MACs)")
def bridge_fdb(vantage: Vantage) -> ProbeOutput:
    rows = call_in(vantage, _fdb_here)
    raw = "\n".join(
        f"{r.mac} dev {r.port} master {r.bridge}{f' vlan {r.vlan}' if r.vlan else ''} {r.state}"
        for r in rows
    )
    return ProbeOutput(rows=tuple(rows), raw=clip(raw))


@probe("bridge.vlans", layer="datalink", title="Bridge VLANs per port (PVID, untagged)")
def bridge_vlans(vantage: Vantage) -> ProbeOutput:
    rows = call_in(vantage, _vlans_here)
    if rows is None:
        raise Skip(NO_VLAN_SUPPORT)
    raw = "\n".join(
        f"{r.port} master {r.bridge} vid {r.vid}{' PVID' if r.pvid else ''}"
        f"{' untagged' if r.untagged else ''}"
        for r in rows
    )
    return ProbeOutput(rows=tuple(rows), raw=raw)
