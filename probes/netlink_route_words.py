"""The words of rtnetlink's route messages: attribute numbers and the names `ip route` prints.

Shared by the dump decoder (:mod:`.netlink_routes`), its fast path
(:mod:`.netlink_route_shape`) and the row builders of other sources
(:mod:`.netlink_rows`), so a route type or protocol is named one way everywhere.
"""

from __future__ import annotations

from .netlink_wire import FAMILIES

# --- route attributes (linux/rtnetlink.h) ---
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_PREFSRC = 7
RTA_MULTIPATH = 9
RTA_TABLE = 15
RTA_VIA = 18

ROUTE_TYPES = (
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
)
# /etc/iproute2/rt_protos plus the well-known daemons of rt_protos.d
ROUTE_PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    17: "mrouted",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
ROUTE_SCOPES = {0: "universe", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_TABLES = {0: "unspec", 253: "default", 254: "main", 255: "local"}


def table_name(table: int) -> str:
    """A routing table as `ip route` names it: main, local, default, or its number."""
    return ROUTE_TABLES.get(table) or str(table)


def route_header_text(
    family: int, table: int, rtype: int, proto: int, scope: int
) -> tuple[str, str, str, str, str]:
    """(table, type, protocol, scope, family) names of a route message's header; the
    decoder memoises them, as a big table has few distinct headers."""
    return (
        ROUTE_TABLES.get(table) or str(table),
        ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype),
        ROUTE_PROTOCOLS.get(proto) or str(proto),
        ROUTE_SCOPES.get(scope) or str(scope),
        FAMILIES[family],
    )
