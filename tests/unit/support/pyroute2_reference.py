"""pyroute2 as the reference decoder: it decodes every attribute with its own message
classes and names things with its own tables; this adapter turns its messages into
the rows the lean decoder gives (``tests/unit/test_probe_lean_vs_pyroute2.py`` and the
lab's ``test_netlink_routes.py`` compare the two on the same datagrams).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pyroute2.netlink.rtnl import rt_proto, rt_scope, rt_type
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes.netlink_socket import AF_BRIDGE
from vnetdoctor.probes.rows import AddrRow, BridgePortRow, FdbRow, LinkRow, NeighRow, RouteRow


# ------------------------------------------------------------------ the reference adapter


def parse(datagrams: Iterable[bytes]) -> list:
    marshal = MarshalRtnl()
    return [
        msg
        for data in datagrams
        for msg in marshal.parse(data)
        if msg.get("event", "").startswith("RTM_")
    ]


def ref_links(datagrams, drivers) -> list[LinkRow]:
    msgs = parse(datagrams)
    index_names = {m["index"]: m.get_attr("IFLA_IFNAME") for m in msgs}
    rows = []
    for m in msgs:
        info = m.get_attr("IFLA_LINKINFO")
        kind = (info.get_attr("IFLA_INFO_KIND") if info else None) or (
            "loopback" if m["ifi_type"] == 772 else ""
        )
        stats = m.get_attr("IFLA_STATS64") or {}
        master = m.get_attr("IFLA_MASTER") or 0
        veth = kind == "veth"
        name = m.get_attr("IFLA_IFNAME")
        netnsid = m.get_attr("IFLA_LINK_NETNSID")
        rows.append(
            LinkRow(
                ifindex=m["index"],
                name=name,
                kind=kind,
                operstate=m.get_attr("IFLA_OPERSTATE"),
                admin_up=bool(m["flags"] & 1),
                carrier=bool(m["flags"] & 0x10000),
                mtu=m.get_attr("IFLA_MTU"),
                mac=m.get_attr("IFLA_ADDRESS") or "",
                master=index_names.get(master, "") if master else "",
                driver=drivers.get(name) or kind,
                noarp=bool(m["flags"] & 0x80),
                peer_ifindex=(m.get_attr("IFLA_LINK") or 0) if veth else 0,
                peer_netnsid=(netnsid if netnsid is not None else -1) if veth else -1,
                rx_packets=stats.get("rx_packets", 0),
                tx_packets=stats.get("tx_packets", 0),
                rx_errors=stats.get("rx_errors", 0),
                tx_errors=stats.get("tx_errors", 0),
                rx_dropped=stats.get("rx_dropped", 0),
                tx_dropped=stats.get("tx_dropped", 0),
            )
        )
    return rows


def _table_name(table: int) -> str:
    return {253: "default", 254: "main", 255: "local"}.get(table, str(table))


def _dst(family: int, dst: str | None, plen: int) -> str:
    if dst is None:
        return "default"
    return dst if plen == (32 if family == socket.AF_INET else 128) else f"{dst}/{plen}"


def ref_routes(datagrams, index_names) -> list[RouteRow]:
    rows = []
    for m in parse(datagrams):
        family = m["family"]
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        table = m.get_attr("RTA_TABLE") or m["table"]
        common = {
            "dst": _dst(family, m.get_attr("RTA_DST"), m["dst_len"]),
            "table": _table_name(table),
            "type": rt_type[m["type"]],
            "prefsrc": m.get_attr("RTA_PREFSRC") or "",
            "protocol": rt_proto.get(m["proto"], str(m["proto"])),
            "scope": rt_scope[m["scope"]],
            "metric": m.get_attr("RTA_PRIORITY") or 0,
            "family": "inet" if family == socket.AF_INET else "inet6",
        }
        hops = m.get_attr("RTA_MULTIPATH")
        if hops:
            for hop in hops:
                rows.append(
                    RouteRow(
                        gateway=hop.get_attr("RTA_GATEWAY") or "",
                        dev=index_names.get(hop["oif"], ""),
                        **common,
                    )
                )
        else:
            oif = m.get_attr("RTA_OIF")
            rows.append(
                RouteRow(
                    gateway=m.get_attr("RTA_GATEWAY") or "",
                    dev=index_names.get(oif, "") if oif else "",
                    **common,
                )
            )
    return rows


_NUD = (
    ("PERMANENT", 0x80),
    ("NOARP", 0x40),
    ("REACHABLE", 0x02),
    ("STALE", 0x04),
    ("DELAY", 0x08),
    ("PROBE", 0x10),
    ("FAILED", 0x20),
    ("INCOMPLETE", 0x01),
)


def ref_neighbours(datagrams, index_names) -> list[NeighRow]:
    rows = []
    for m in parse(datagrams):
        if m["family"] not in (socket.AF_INET, socket.AF_INET6) or m.get_attr("NDA_DST") is None:
            continue
        state = next((name for name, bit in _NUD if m["state"] & bit), "NONE")
        rows.append(
            NeighRow(
                index_names.get(m["ifindex"], ""),
                m.get_attr("NDA_DST"),
                m.get_attr("NDA_LLADDR") or "",
                state,
                "inet" if m["family"] == socket.AF_INET else "inet6",
            )
        )
    return rows


def ref_addrs(datagrams, index_names) -> list[AddrRow]:
    rows = []
    for m in parse(datagrams):
        if m["family"] not in (socket.AF_INET, socket.AF_INET6):
            continue
        flags = m.get_attr("IFA_FLAGS")
        rows.append(
            AddrRow(
                ifname=index_names.get(m["index"], ""),
                family="inet" if m["family"] == socket.AF_INET else "inet6",
                address=m.get_attr("IFA_LOCAL") or m.get_attr("IFA_ADDRESS"),
                prefixlen=m["prefixlen"],
                scope={0: "global"}.get(m["scope"], rt_scope.get(m["scope"], str(m["scope"]))),
                flags=nd.addr_flag_names(m["family"], flags if flags is not None else m["flags"]),
            )
        )
    return rows


_STP = ("disabled", "listening", "learning", "forwarding", "blocking")


def ref_bridge_ports(datagrams, index_names) -> list[BridgePortRow]:
    rows = []
    for m in parse(datagrams):
        info = m.get_attr("IFLA_PROTINFO")
        if m["family"] != AF_BRIDGE or not info or not m.get_attr("IFLA_MASTER"):
            continue
        get = info.get_attr
        rows.append(
            BridgePortRow(
                bridge=index_names[m.get_attr("IFLA_MASTER")],
                port=m.get_attr("IFLA_IFNAME"),
                state=_STP[get("IFLA_BRPORT_STATE")],
                flood=bool(get("IFLA_BRPORT_UNICAST_FLOOD")),
                bcast_flood=bool(get("IFLA_BRPORT_BCAST_FLOOD")),
                mcast_flood=bool(get("IFLA_BRPORT_MCAST_FLOOD")),
                bpdu_guard=bool(get("IFLA_BRPORT_GUARD")),
                learning=bool(get("IFLA_BRPORT_LEARNING")),
                cost=get("IFLA_BRPORT_COST"),
                priority=get("IFLA_BRPORT_PRIORITY"),
                oper_up=m.get_attr("IFLA_OPERSTATE") == "UP",
            )
        )
    return rows


def ref_fdb(datagrams, index_names) -> list[FdbRow]:
    rows = []
    for m in parse(datagrams):
        master = m.get_attr("NDA_MASTER")
        if m["family"] != AF_BRIDGE or not master:
            continue
        state = m["state"]
        word = (
            "permanent"
            if state & 0x80
            else "static"
            if state & 0x40
            else "stale"
            if state & 0x04
            else "reachable"
            if state & 0x02
            else ""
        )
        rows.append(
            FdbRow(
                index_names[master],
                index_names[m["ifindex"]],
                m.get_attr("NDA_LLADDR"),
                m.get_attr("NDA_VLAN") or 0,
                bool(state & 0x80),
                word,
            )
        )
    return rows
