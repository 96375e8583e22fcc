"""The three big dumps read with pyroute2 alone: the reference the lean decoders are held to.

The probes read links, routes and neighbours with the lean decoders of
``vnetdoctor.probes.netlink_decode``, because pyroute2's generic message classes
are 10-30 times slower on a big host. That choice has to keep earning its
place, so this module reads the same dumps with pyroute2 end to end (its socket,
its parser, its names) and turns the messages into the very same rows:

- ``vnetdoctor bench netlink`` times these next to the lean probes and iproute2;
- the unit tests feed both decoders the same datagrams (and the same live
  namespace) and expect identical rows, so a disagreement is a bug in one of them.

pyroute2 is imported by the functions that need it, never at import time.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from typing import Any

from vnetdoctor.probes.netlink_query import ethtool_drivers, interface_names, with_rtnl
from vnetdoctor.probes.rows import LinkRow, NeighRow, RouteRow

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
_FAMILIES = {socket.AF_INET: "inet", socket.AF_INET6: "inet6"}


def parse(datagrams: Iterable[bytes]) -> list[Any]:
    """pyroute2's messages for raw rtnetlink datagrams (its own parser, ``MarshalRtnl``)."""
    from pyroute2.netlink.rtnl.marshal import MarshalRtnl

    marshal = MarshalRtnl()
    return [
        msg
        for data in datagrams
        for msg in marshal.parse(data)
        if str(msg.get("event", "")).startswith("RTM_")
    ]


def link_rows(msgs: Iterable[Any], drivers: Mapping[str, str]) -> list[LinkRow]:
    """LinkRows from pyroute2's RTM_NEWLINK messages (``drivers``: name -> ethtool driver)."""
    msgs = list(msgs)
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


def route_rows(msgs: Iterable[Any], index_names: Mapping[int, str]) -> list[RouteRow]:
    """RouteRows from pyroute2's RTM_NEWROUTE messages; a multipath route gives one per hop."""
    from pyroute2.netlink.rtnl import rt_proto, rt_scope, rt_type

    rows = []
    for m in msgs:
        family = m["family"]
        if family not in _FAMILIES:
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
            "family": _FAMILIES[family],
        }
        hops = m.get_attr("RTA_MULTIPATH")
        if hops:
            for hop in hops:
                gateway = hop.get_attr("RTA_GATEWAY") or ""
                dev = _device(index_names, hop["oif"])
                rows.append(RouteRow(gateway=gateway, dev=dev, **common))
        else:
            oif = m.get_attr("RTA_OIF")
            rows.append(
                RouteRow(
                    gateway=m.get_attr("RTA_GATEWAY") or "",
                    dev=_device(index_names, oif),
                    **common,
                )
            )
    return rows


def _device(index_names: Mapping[int, str], oif: int | None) -> str:
    """A route's device: its name, or its index when it has none here (never "": that
    would say the route has no device)."""
    return (index_names.get(oif) or str(oif)) if oif else ""


def neighbour_rows(msgs: Iterable[Any], index_names: Mapping[int, str]) -> list[NeighRow]:
    """NeighRows (ARP and NDP) from pyroute2's RTM_NEWNEIGH messages."""
    rows = []
    for m in msgs:
        if m["family"] not in _FAMILIES or m.get_attr("NDA_DST") is None:
            continue
        state = next((name for name, bit in _NUD if m["state"] & bit), "NONE")
        rows.append(
            NeighRow(
                index_names.get(m["ifindex"], ""),
                m.get_attr("NDA_DST"),
                m.get_attr("NDA_LLADDR") or "",
                state,
                _FAMILIES[m["family"]],
            )
        )
    return rows


# ------------------------------------------------------------ live, in this thread's namespace


def links_here() -> list[LinkRow]:
    """What ``link.list`` reports, read with pyroute2's ``get_links`` (plus the same ethtool)."""
    msgs = with_rtnl("pyroute2 link dump", lambda ipr: list(ipr.get_links()))
    names = [m.get_attr("IFLA_IFNAME") for m in msgs]
    return link_rows(msgs, ethtool_drivers(names))


def routes_here() -> list[RouteRow]:
    """What ``route.list`` reports (every table, both families), with pyroute2's route dump."""
    msgs = with_rtnl("pyroute2 route dump", lambda ipr: list(ipr.route("dump")))
    return route_rows(msgs, interface_names())


def neighbours_here() -> list[NeighRow]:
    """What ``neigh.list`` reports, with pyroute2's ``get_neighbours``."""
    msgs = with_rtnl("pyroute2 neighbour dump", lambda ipr: list(ipr.get_neighbours()))
    return neighbour_rows(msgs, interface_names())

