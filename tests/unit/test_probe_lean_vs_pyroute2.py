"""The lean netlink decoder must give the same rows as pyroute2 on the same system state.

pyroute2 is the independent reference: it decodes every attribute with its own
message classes and names things with its own tables. Here it decodes the very
same datagrams the lean decoder reads (recorded from the probe lab, and live
from this process's namespace), and a small adapter turns its messages into rows.
Any disagreement is a bug in one of them, and pyroute2 has far more users.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterable
from ipaddress import IPv4Address

import pytest
from probe_recording import chunks, names, side
from pyroute2.netlink.rtnl import rt_proto, rt_scope, rt_type
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.netlink_socket import (
    AF_BRIDGE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETROUTE,
)
from vnetdoctor.probes.rows import AddrRow, BridgePortRow, FdbRow, LinkRow, NeighRow, RouteRow


@pytest.fixture
def lab_root() -> None:
    """Lab tests create namespaces: they need root (CAP_SYS_ADMIN + CAP_NET_ADMIN)."""
    from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, has_cap

    if not (has_cap(CAP_NET_ADMIN) and has_cap(CAP_SYS_ADMIN)):
        pytest.skip("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces")


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


# ------------------------------------------------------------------ recorded lab state


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_links_match_pyroute2(which):
    drivers = side(which)["drivers"]
    lean = nd.link_rows(nd.decode_links(chunks(which, "link")), drivers)
    assert lean == ref_links(chunks(which, "link"), drivers)
    assert len(lean) >= 2


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_routes_match_pyroute2(which):
    lean = nd.decode_routes(chunks(which, "route"), names(which))
    assert lean == ref_routes(chunks(which, "route"), names(which))
    assert any(r.dst == "default" for r in lean)


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_neighbours_and_addresses_match_pyroute2(which):
    assert nd.decode_neighbours(chunks(which, "neigh"), names(which)) == ref_neighbours(
        chunks(which, "neigh"), names(which)
    )
    assert nd.decode_addrs(chunks(which, "addr"), names(which)) == ref_addrs(
        chunks(which, "addr"), names(which)
    )


def test_recorded_bridge_ports_and_fdb_match_pyroute2():
    ports = nd.decode_bridge_ports(chunks("host", "bridge_link"), names("host"))
    assert ports == ref_bridge_ports(chunks("host", "bridge_link"), names("host"))
    assert len(ports) == 2
    fdb = nd.decode_fdb(chunks("host", "fdb"), names("host"))
    assert fdb == ref_fdb(chunks("host", "fdb"), names("host"))
    assert len(fdb) == 3


# ------------------------------------------------------------------ live, this namespace (read-only)


def test_live_dumps_of_this_namespace_match_pyroute2():
    """Dump once, decode twice: both decoders see exactly the same state."""
    index_names = nq.interface_names()
    link = nq.dump_raw(RTM_GETLINK, bytes(16))
    route = nq.dump_raw(RTM_GETROUTE, bytes(12))
    neigh = nq.dump_raw(RTM_GETNEIGH, bytes(12))
    addr = nq.dump_raw(RTM_GETADDR, bytes(8))
    assert nd.link_rows(nd.decode_links(link)) == ref_links(link, {})
    assert nd.decode_routes(route, index_names) == ref_routes(route, index_names)
    assert nd.decode_neighbours(neigh, index_names) == ref_neighbours(neigh, index_names)
    assert nd.decode_addrs(addr, index_names) == ref_addrs(addr, index_names)


# ------------------------------------------------------------------ live, a namespace with a real table


@pytest.mark.lab
def test_lean_and_pyroute2_agree_on_thousands_of_routes(lab_root):
    """A few thousand routes of mixed shapes: the shape cache must not change a single row."""
    from vnetdoctor.probes.nsexec import call_in
    from vnetdoctor.probes.vantage import Vantage

    ns = f"vnd-tl{os.getpid()}"
    lines = [
        "link set lo up",
        "link add va type veth peer name vb",
        "link set va up",
        "link set vb up",
        "addr add 198.18.0.1/24 dev va",
        "addr add 198.18.1.1/24 dev vb",
    ]
    for i in range(3000):
        dst = IPv4Address(int(IPv4Address("198.19.0.0")) + i * 4)
        if i % 7 == 0:
            lines.append(f"route add blackhole {dst}/30")
        elif i % 5 == 0:
            lines.append(f"route add {dst}/30 via 198.18.1.2 dev vb metric {i} proto static")
        elif i % 11 == 0:
            lines.append(
                f"route add {dst}/30 nexthop via 198.18.0.2 dev va nexthop via 198.18.1.2 dev vb"
            )
        else:
            lines.append(f"route add {dst}/30 via 198.18.0.2 dev va")
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(
            ["ip", "-n", ns, "-batch", "-"], input="\n".join(lines), text=True, check=True
        )
        vantage = Vantage("netns", ns)
        index_names = call_in(vantage, nq.interface_names)
        datagrams = call_in(vantage, nq.dump_raw, RTM_GETROUTE, bytes(12))
        lean = nd.decode_routes(datagrams, index_names)
        assert lean == ref_routes(datagrams, index_names)
        assert len([r for r in lean if r.dst.startswith("198.19.")]) > 3000  # multipath adds rows
        assert {r.type for r in lean} >= {"unicast", "blackhole", "local", "broadcast"}
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
