"""Rows from pyroute2's messages: addresses, bridge ports, fdb, VLANs, one route lookup.

These are the small answers, where pyroute2's generic decoding costs nothing an
operator notices; the big dumps go through the lean decoders instead (see
:mod:`.netlink_query`). Every function here is a pure function of pyroute2
messages (live from ``IPRoute``, or parsed from recorded datagrams by its
``MarshalRtnl``) and, where rows name interfaces, an ``{ifindex: name}`` map, so
the unit tests check them on recorded lab state without root.

Names follow iproute2's spelling (``ip -d``, ``bridge``), as the lean decoders
and :mod:`.iproute_json` do, so rows read the same wherever they came from.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from .netlink_neighbours import nud_state_name
from .netlink_route_words import ROUTE_TYPES, table_name
from .netlink_wire import AF_BRIDGE, FAMILIES, IFF_LOWER_UP, IFF_UP
from .rows import AddrRow, BridgePortRow, BridgeVlanRow, FdbRow, RouteLookupRow

ADDR_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
IFA_F_SECONDARY = 0x01
IFA_F_PERMANENT = 0x80
# iproute2's names, in the order ``ip addr`` prints them.
ADDR_FLAG_NAMES = (
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
)
STP_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NUD_REACHABLE = 0x02
NUD_STALE = 0x04
BRIDGE_VLAN_INFO_PVID = 0x2
BRIDGE_VLAN_INFO_UNTAGGED = 0x4
BRIDGE_VLAN_INFO_RANGE_BEGIN = 0x8
BRIDGE_VLAN_INFO_RANGE_END = 0x10

# What the kernel's FIB answers for each route type it refuses to forward on
# (fib_props in net/ipv4/fib_semantics.c): errno -> the route type behind it.
_LOOKUP_ERRNO_TYPES = {
    errno.ENETUNREACH: "unreachable",  # no route at all
    errno.EHOSTUNREACH: "unreachable",  # an "unreachable" route
    errno.EINVAL: "blackhole",
    errno.EACCES: "prohibit",
}


def _name(names: Mapping[int, str], index: int) -> str:
    return names.get(index) or str(index)


def addr_flag_names(family: int, flags: int) -> tuple[str, ...]:
    """iproute2's words for IFA_F_* bits (``dynamic`` = not permanent)."""
    out = []
    if flags & IFA_F_SECONDARY:
        out.append("secondary" if family == socket.AF_INET else "temporary")
    for bit, name in ADDR_FLAG_NAMES:
        if flags & bit:
            out.append(name)
    if not flags & IFA_F_PERMANENT:
        out.append("dynamic")
    return tuple(out)


def addr_rows(msgs: Iterable[Any], names: Mapping[int, str]) -> list[AddrRow]:
    """AddrRows from RTM_NEWADDR messages (IPv4 and IPv6)."""
    out = []
    for m in msgs:
        family = m["family"]
        if family not in FAMILIES:
            continue
        address = m.get_attr("IFA_LOCAL") or m.get_attr("IFA_ADDRESS")
        if not address:
            continue
        flags = m.get_attr("IFA_FLAGS")
        out.append(
            AddrRow(
                ifname=_name(names, m["index"]),
                family=FAMILIES[family],
                address=address,
                prefixlen=m["prefixlen"],
                scope=ADDR_SCOPES.get(m["scope"]) or str(m["scope"]),
                flags=addr_flag_names(family, m["flags"] if flags is None else flags),
            )
        )
    return out


def _oper_up(operstate: str | None, flags: int) -> bool:
    """RFC 2863 UP, or UNKNOWN with carrier (drivers that never set an operstate)."""
    if operstate == "UP":
        return True
    return operstate in (None, "UNKNOWN") and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)


def bridge_port_rows(msgs: Iterable[Any], names: Mapping[int, str]) -> list[BridgePortRow]:
    """BridgePortRows from an AF_BRIDGE link dump (IFLA_PROTINFO per port, ``bridge link``)."""
    rows = []
    for m in msgs:
        info = m.get_attr("IFLA_PROTINFO")
        master = m.get_attr("IFLA_MASTER")
        if m["family"] != AF_BRIDGE or not info or not master:
            continue

        def get(name: str, default: int, info: Any = info) -> int:
            value = info.get_attr(name)
            return default if value is None else int(value)

        state = get("IFLA_BRPORT_STATE", 0)
        rows.append(
            BridgePortRow(
                bridge=_name(names, master),
                port=m.get_attr("IFLA_IFNAME") or _name(names, m["index"]),
                state=STP_STATES[state] if state < len(STP_STATES) else str(state),
                flood=bool(get("IFLA_BRPORT_UNICAST_FLOOD", 1)),
                bcast_flood=bool(get("IFLA_BRPORT_BCAST_FLOOD", 1)),
                mcast_flood=bool(get("IFLA_BRPORT_MCAST_FLOOD", 1)),
                bpdu_guard=bool(get("IFLA_BRPORT_GUARD", 0)),
                learning=bool(get("IFLA_BRPORT_LEARNING", 1)),
                cost=get("IFLA_BRPORT_COST", 0),
                priority=get("IFLA_BRPORT_PRIORITY", 0),
                oper_up=_oper_up(m.get_attr("IFLA_OPERSTATE"), m["flags"]),
            )
        )
    return rows


def fdb_state_name(state: int) -> str:
    """``bridge fdb``'s words: permanent, static, stale, reachable."""
    if state & NUD_PERMANENT:
        return "permanent"
    if state & NUD_NOARP:
        return "static"
    if state & NUD_STALE:
        return "stale"
    if state & NUD_REACHABLE:
        return "reachable"
    return nud_state_name(state).lower()


def fdb_rows(msgs: Iterable[Any], names: Mapping[int, str]) -> list[FdbRow]:
    """FdbRows from an AF_BRIDGE neighbour dump: the bridges' forwarding databases.

    Entries without NDA_MASTER are a device's own address list (``self``), not
    something a bridge learned or was told; they are left out.
    """
    rows = []
    for m in msgs:
        master = m.get_attr("NDA_MASTER")
        lladdr = m.get_attr("NDA_LLADDR")
        if m["family"] != AF_BRIDGE or not master or not lladdr:
            continue
        state = m["state"]
        rows.append(
            FdbRow(
                bridge=_name(names, master),
                port=_name(names, m["ifindex"]),
                mac=lladdr,
                vlan=m.get_attr("NDA_VLAN") or 0,
                is_local=bool(state & NUD_PERMANENT),
                state=fdb_state_name(state),
            )
        )
    return rows


def vlan_rows(msgs: Iterable[Any], names: Mapping[int, str]) -> list[BridgeVlanRow]:
    """BridgeVlanRows from an AF_BRIDGE link dump asked with RTEXT_FILTER_BRVLAN.

    Each port (and the bridge itself, as its own port) carries IFLA_AF_SPEC with
    one IFLA_BRIDGE_VLAN_INFO per VLAN, or a RANGE_BEGIN/RANGE_END pair.
    """
    rows = []
    for m in msgs:
        spec = m.get_attr("IFLA_AF_SPEC")
        if m["family"] != AF_BRIDGE or not spec:
            continue
        port = m.get_attr("IFLA_IFNAME") or _name(names, m["index"])
        master = m.get_attr("IFLA_MASTER")
        bridge = _name(names, master) if master else port
        range_start: int | None = None
        for info in spec.get_attrs("IFLA_BRIDGE_VLAN_INFO"):
            vflags, vid = info["flags"], info["vid"]
            pvid = bool(vflags & BRIDGE_VLAN_INFO_PVID)
            untagged = bool(vflags & BRIDGE_VLAN_INFO_UNTAGGED)
            if vflags & BRIDGE_VLAN_INFO_RANGE_BEGIN:
                range_start = vid
            elif vflags & BRIDGE_VLAN_INFO_RANGE_END and range_start is not None:
                for v in range(range_start, vid + 1):
                    rows.append(BridgeVlanRow(bridge, port, v, pvid, untagged))
                range_start = None
            else:
                rows.append(BridgeVlanRow(bridge, port, vid, pvid, untagged))
    return rows


def lookup_refusal(dst: str, code: int, message: str) -> RouteLookupRow:
    """The row for a lookup the kernel refused: the errno says which route type refused it."""
    return RouteLookupRow(dst=dst, type=_LOOKUP_ERRNO_TYPES.get(code, "error"), error=message)


def _gateway(m: Any) -> tuple[int, str]:
    """(oif, gateway) of a route message: its own, or its first next hop's."""
    hops = m.get_attr("RTA_MULTIPATH")
    if hops:
        m = hops[0]
        oif = m["oif"]
    else:
        oif = m.get_attr("RTA_OIF") or 0
    gateway = m.get_attr("RTA_GATEWAY")
    if not gateway:
        via = m.get_attr("RTA_VIA")  # an IPv4 route via an IPv6 next hop
        gateway = via.get("addr", "") if isinstance(via, Mapping) else (via or "")
    return oif, gateway or ""


def route_reply_row(
    msgs: Iterable[Any], dst: str, names: Mapping[int, str], src: str | None = None
) -> RouteLookupRow:
    """The RouteLookupRow for the kernel's answer to one RTM_GETROUTE request.

    ``prefsrc`` is the packet's source address: the one the kernel would pick
    (RTA_PREFSRC), or, when the request named a source (``ip route get X from
    S``, and always with ``iif``, where S is the sender), that source, which the
    kernel then echoes as RTA_SRC instead.
    """
    for m in msgs:
        if m["family"] not in FAMILIES:
            continue
        oif, gateway = _gateway(m)
        rtype = m["type"]
        return RouteLookupRow(
            dst=dst,
            type=ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype),
            dev=_name(names, oif) if oif else "",
            gateway=gateway,
            prefsrc=m.get_attr("RTA_PREFSRC") or (src or ""),
            table=table_name(m.get_attr("RTA_TABLE") or m["table"]),
        )
    return RouteLookupRow(dst=dst, type="error", error="the kernel sent no route")
