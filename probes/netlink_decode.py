"""Decode rtnetlink datagrams into rows, with ``struct`` and nothing else.

Every decoder is a pure function of the datagrams (``bytes``) a dump returned
and, where rows name interfaces, an ``{ifindex: name}`` map. That makes them
testable on recorded dumps without root, and keeps the hot loops (100,000
routes, thousands of links) down to one pass that reads only the attributes a
row needs; everything else is skipped by its length.

Decoders stop at NLMSG_DONE, so they can consume a live
:meth:`~.netlink_socket.RtnlSocket.dump_chunks` generator directly; kernel
errors and interrupted dumps surface as :class:`~.netlink_socket.NetlinkError`
and :class:`~.netlink_socket.DumpInterrupted`.

Names follow iproute2's spelling (``ip -d``), so rows read the same whether they
came from here or from :mod:`.iproute_json` on a guest.
"""

from __future__ import annotations

import gc
import operator
import socket
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from .netlink_socket import (
    AF_BRIDGE,
    AF_INET,
    AF_INET6,
    NLM_F_DUMP_INTR,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    RTM_NEWROUTE,
    DumpInterrupted,
    raise_for_control,
)
from .rows import (
    AddrRow,
    BridgePortRow,
    BridgeRow,
    BridgeVlanRow,
    FdbRow,
    LinkRow,
    NeighRow,
    RouteLookupRow,
    RouteRow,
)

_NLMSGHDR = struct.Struct("=IHHII")
_NLA = struct.Struct("=HH")
_U8 = struct.Struct("=B")
_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_S32 = struct.Struct("=i")
_IFINFOMSG = struct.Struct("=BxHiII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_NDMSG = struct.Struct("=BxxxiHBB")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTNEXTHOP = struct.Struct("=HBBi")
_STATS64 = struct.Struct("=8Q")  # the first eight counters of rtnl_link_stats64
_VLAN_INFO = struct.Struct("=HH")

NLA_TYPE_MASK = 0x3FFF  # strips NLA_F_NESTED / NLA_F_NET_BYTEORDER

# --- link attributes (linux/if_link.h) ---
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_PROTINFO = 12
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_STATS64 = 23
IFLA_AF_SPEC = 26
IFLA_LINK_NETNSID = 37
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_BR_FORWARD_DELAY = 1
IFLA_BR_AGEING_TIME = 4
IFLA_BR_STP_STATE = 5
IFLA_BR_VLAN_FILTERING = 7
IFLA_BR_NF_CALL_IPTABLES = 36
IFLA_BR_VLAN_DEFAULT_PVID = 39  # only sent by kernels built with bridge VLAN filtering
IFLA_BRPORT_STATE = 1
IFLA_BRPORT_PRIORITY = 2
IFLA_BRPORT_COST = 3
IFLA_BRPORT_GUARD = 5
IFLA_BRPORT_LEARNING = 8
IFLA_BRPORT_UNICAST_FLOOD = 9
IFLA_BRPORT_MCAST_FLOOD = 27
IFLA_BRPORT_BCAST_FLOOD = 30
IFLA_BRIDGE_VLAN_INFO = 2
BRIDGE_VLAN_INFO_PVID = 0x2
BRIDGE_VLAN_INFO_UNTAGGED = 0x4
BRIDGE_VLAN_INFO_RANGE_BEGIN = 0x8
BRIDGE_VLAN_INFO_RANGE_END = 0x10

IFF_UP = 0x1
IFF_NOARP = 0x80
IFF_LOWER_UP = 0x10000
ARPHRD_LOOPBACK = 772

# USER_HZ: bridge timers travel as clock_t hundredths of a second.
_USER_HZ = 100.0

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
STP_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")

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
ADDR_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_TABLES = {0: "unspec", 253: "default", 254: "main", 255: "local"}

FAMILIES = {AF_INET: "inet", AF_INET6: "inet6"}

# --- neighbour (linux/neighbour.h) ---
NDA_DST = 1
NDA_LLADDR = 2
NDA_VLAN = 5
NDA_MASTER = 9
NUD_STATES = (
    (0x80, "PERMANENT"),
    (0x40, "NOARP"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x01, "INCOMPLETE"),
)
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NUD_REACHABLE = 0x02
NUD_STALE = 0x04

# --- addresses (linux/if_addr.h) ---
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_FLAGS = 8
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


def nud_state_name(state: int) -> str:
    """One name for a neighbour state bitmask (the kernel sets exactly one bit)."""
    for bit, name in NUD_STATES:
        if state & bit:
            return name
    return "NONE"


def attrs(buf: bytes, start: int, end: int) -> dict[int, tuple[int, int]]:
    """Attribute type -> (payload start, payload end) for one attribute block."""
    out: dict[int, tuple[int, int]] = {}
    unpack = _NLA.unpack_from
    while start + 4 <= end:
        length, atype = unpack(buf, start)
        if length < 4:
            break
        out[atype & NLA_TYPE_MASK] = (start + 4, start + length)
        start += (length + 3) & ~3
    return out


def _cstr(buf: bytes, span: tuple[int, int]) -> str:
    return buf[span[0] : span[1]].split(b"\0", 1)[0].decode("utf-8", "replace")


def _u8(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return _U8.unpack_from(buf, span[0])[0] if span else default


def _u16(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return _U16.unpack_from(buf, span[0])[0] if span else default


def _u32(buf: bytes, span: tuple[int, int] | None, default: int = 0) -> int:
    return _U32.unpack_from(buf, span[0])[0] if span else default


def _messages(chunks: Iterable[bytes], wanted: int) -> Iterable[tuple[bytes, int, int, int]]:
    """(datagram, body start, message end, flags) for each message of type ``wanted``.

    For the small dumps; the route and link decoders inline this loop.
    """
    for chunk in chunks:
        offset = 0
        size = len(chunk)
        while offset + 16 <= size:
            length, mtype, mflags, _seq, _pid = _NLMSGHDR.unpack_from(chunk, offset)
            if length < 16:
                break
            if mtype == wanted:
                if mflags & NLM_F_DUMP_INTR:
                    raise DumpInterrupted()
                yield chunk, offset + 16, offset + length, mflags
            elif raise_for_control(chunk, offset, mtype, mflags):
                return
            offset += (length + 3) & ~3


# ---------------------------------------------------------------- links


@dataclass(slots=True)
class DecodedLink:
    """What one RTM_NEWLINK says, before names and drivers are filled in."""

    ifindex: int
    name: str
    kind: str
    operstate: str
    flags: int
    mtu: int
    mac: str
    master_index: int
    link_index: int
    link_netnsid: int
    stats: tuple[int, ...]
    info_data: bytes  # IFLA_INFO_DATA payload (bridge options for kind "bridge")


_LINK_ATTRS = frozenset(
    {
        IFLA_IFNAME,
        IFLA_MTU,
        IFLA_ADDRESS,
        IFLA_MASTER,
        IFLA_OPERSTATE,
        IFLA_STATS64,
        IFLA_LINK,
        IFLA_LINK_NETNSID,
        IFLA_LINKINFO,
    }
)


def decode_links(chunks: Iterable[bytes]) -> list[DecodedLink]:
    """Decode an RTM_GETLINK dump (family AF_UNSPEC) into :class:`DecodedLink` items."""
    out: list[DecodedLink] = []
    unpack_hdr = _NLMSGHDR.unpack_from
    unpack_nla = _NLA.unpack_from
    unpack_ifi = _IFINFOMSG.unpack_from
    u32 = _U32.unpack_from
    zero_stats = (0,) * 8
    wanted = _LINK_ATTRS
    for chunk in chunks:
        offset = 0
        size = len(chunk)
        while offset + 16 <= size:
            length, mtype, mflags, _seq, _pid = unpack_hdr(chunk, offset)
            if length < 16:
                break
            if mtype != RTM_NEWLINK:
                if raise_for_control(chunk, offset, mtype, mflags):
                    return out
                offset += (length + 3) & ~3
                continue
            if mflags & NLM_F_DUMP_INTR:
                raise DumpInterrupted()
            _family, dev_type, index, flags, _change = unpack_ifi(chunk, offset + 16)
            name = kind = mac = ""
            operstate = "UNKNOWN"
            mtu = master = link = 0
            netnsid = -1
            stats = zero_stats
            info_data = b""
            pos = offset + 32
            end = offset + length
            while pos + 4 <= end:
                alen, atype = unpack_nla(chunk, pos)
                if alen < 4:
                    break
                atype &= NLA_TYPE_MASK
                if atype not in wanted:  # most of a link's ~45 attributes
                    pos += (alen + 3) & ~3
                    continue
                if atype == IFLA_IFNAME:
                    name = chunk[pos + 4 : pos + alen].split(b"\0", 1)[0].decode("utf-8", "replace")
                elif atype == IFLA_MTU:
                    mtu = u32(chunk, pos + 4)[0]
                elif atype == IFLA_ADDRESS:
                    mac = chunk[pos + 4 : pos + alen].hex(":")
                elif atype == IFLA_MASTER:
                    master = u32(chunk, pos + 4)[0]
                elif atype == IFLA_OPERSTATE:
                    state = chunk[pos + 4]
                    operstate = OPERSTATES[state] if state < len(OPERSTATES) else str(state)
                elif atype == IFLA_STATS64:
                    stats = _STATS64.unpack_from(chunk, pos + 4)
                elif atype == IFLA_LINK:
                    link = u32(chunk, pos + 4)[0]
                elif atype == IFLA_LINK_NETNSID:
                    netnsid = _S32.unpack_from(chunk, pos + 4)[0]
                elif atype == IFLA_LINKINFO:
                    info = attrs(chunk, pos + 4, pos + alen)
                    if IFLA_INFO_KIND in info:
                        kind = _cstr(chunk, info[IFLA_INFO_KIND])
                    if IFLA_INFO_DATA in info:
                        start, stop = info[IFLA_INFO_DATA]
                        info_data = chunk[start:stop]
                pos += (alen + 3) & ~3
            if not kind and dev_type == ARPHRD_LOOPBACK:
                kind = "loopback"
            out.append(
                DecodedLink(
                    index,
                    name,
                    kind,
                    operstate,
                    flags,
                    mtu,
                    mac,
                    master,
                    link,
                    netnsid,
                    stats,
                    info_data,
                )
            )
            offset += (length + 3) & ~3
    return out


def link_rows(links: list[DecodedLink], drivers: Mapping[str, str] | None = None) -> list[LinkRow]:
    """LinkRows from decoded links; ``drivers`` maps a name to its ethtool driver."""
    names = {link.ifindex: link.name for link in links}
    drivers = drivers or {}
    rows = []
    for link in links:
        veth = link.kind == "veth"
        rx_p, tx_p, _rx_b, _tx_b, rx_e, tx_e, rx_d, tx_d = link.stats
        rows.append(
            LinkRow(
                ifindex=link.ifindex,
                name=link.name,
                kind=link.kind,
                operstate=link.operstate,
                admin_up=bool(link.flags & IFF_UP),
                carrier=bool(link.flags & IFF_LOWER_UP),
                mtu=link.mtu,
                mac=link.mac,
                master=names.get(link.master_index, str(link.master_index))
                if link.master_index
                else "",
                driver=drivers.get(link.name) or link.kind,
                noarp=bool(link.flags & IFF_NOARP),
                peer_ifindex=link.link_index if veth else 0,
                peer_netnsid=link.link_netnsid if veth else -1,
                rx_packets=rx_p,
                tx_packets=tx_p,
                rx_errors=rx_e,
                tx_errors=tx_e,
                rx_dropped=rx_d,
                tx_dropped=tx_d,
            )
        )
    return rows


def bridge_supports_vlans(link: DecodedLink) -> bool:
    """A kernel built with bridge VLAN filtering always reports the default PVID."""
    return IFLA_BR_VLAN_DEFAULT_PVID in attrs(link.info_data, 0, len(link.info_data))


def bridge_rows(links: list[DecodedLink]) -> list[BridgeRow]:
    """BridgeRows for the links of kind ``bridge`` (their IFLA_INFO_DATA options)."""
    rows = []
    for link in links:
        if link.kind != "bridge":
            continue
        data = link.info_data
        opts = attrs(data, 0, len(data))
        rows.append(
            BridgeRow(
                name=link.name,
                stp_enabled=_u32(data, opts.get(IFLA_BR_STP_STATE)) != 0,
                forward_delay_s=_u32(data, opts.get(IFLA_BR_FORWARD_DELAY)) / _USER_HZ,
                vlan_filtering=_u8(data, opts.get(IFLA_BR_VLAN_FILTERING)) != 0,
                ageing_time_s=_u32(data, opts.get(IFLA_BR_AGEING_TIME)) / _USER_HZ,
                nf_call_iptables=_u8(data, opts.get(IFLA_BR_NF_CALL_IPTABLES)) != 0,
            )
        )
    return rows


# ---------------------------------------------------------------- bridge ports / fdb / vlans


def decode_bridge_ports(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[BridgePortRow]:
    """BridgePortRows from an AF_BRIDGE RTM_GETLINK dump (IFLA_PROTINFO per port)."""
    rows = []
    for buf, start, end, _flags in _messages(chunks, RTM_NEWLINK):
        family, _type, index, flags, _change = _IFINFOMSG.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 16, end)
        if IFLA_PROTINFO not in top or IFLA_MASTER not in top:
            continue
        port = _cstr(buf, top[IFLA_IFNAME]) if IFLA_IFNAME in top else names.get(index, str(index))
        master = _u32(buf, top[IFLA_MASTER])
        operstate = _u8(buf, top.get(IFLA_OPERSTATE))
        p_start, p_end = top[IFLA_PROTINFO]
        info = attrs(buf, p_start, p_end)
        state = _u8(buf, info.get(IFLA_BRPORT_STATE))
        rows.append(
            BridgePortRow(
                bridge=names.get(master, str(master)),
                port=port,
                state=STP_STATES[state] if state < len(STP_STATES) else str(state),
                flood=bool(_u8(buf, info.get(IFLA_BRPORT_UNICAST_FLOOD), 1)),
                bcast_flood=bool(_u8(buf, info.get(IFLA_BRPORT_BCAST_FLOOD), 1)),
                mcast_flood=bool(_u8(buf, info.get(IFLA_BRPORT_MCAST_FLOOD), 1)),
                bpdu_guard=bool(_u8(buf, info.get(IFLA_BRPORT_GUARD), 0)),
                learning=bool(_u8(buf, info.get(IFLA_BRPORT_LEARNING), 1)),
                cost=_u32(buf, info.get(IFLA_BRPORT_COST)),
                priority=_u16(buf, info.get(IFLA_BRPORT_PRIORITY)),
                oper_up=_oper_up(operstate, flags),
            )
        )
    return rows


def _oper_up(operstate: int, flags: int) -> bool:
    """RFC 2863 UP, or UNKNOWN with carrier (drivers that never set an operstate)."""
    if operstate == 6:
        return True
    return operstate == 0 and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)


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


def decode_fdb(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[FdbRow]:
    """FdbRows from an AF_BRIDGE RTM_GETNEIGH dump: the bridges' forwarding databases.

    Entries without NDA_MASTER are a device's own address list (``self``), not
    something a bridge learned or was told; they are left out.
    """
    rows = []
    for buf, start, end, _flags in _messages(chunks, RTM_NEWNEIGH):
        family, index, state, _nflags, _type = _NDMSG.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 12, end)
        if NDA_MASTER not in top or NDA_LLADDR not in top:
            continue
        master = _u32(buf, top[NDA_MASTER])
        s, e = top[NDA_LLADDR]
        rows.append(
            FdbRow(
                bridge=names.get(master, str(master)),
                port=names.get(index, str(index)),
                mac=buf[s:e].hex(":"),
                vlan=_u16(buf, top.get(NDA_VLAN)),
                is_local=bool(state & NUD_PERMANENT),
                state=fdb_state_name(state),
            )
        )
    return rows


def decode_bridge_vlans(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[BridgeVlanRow]:
    """BridgeVlanRows from an AF_BRIDGE RTM_GETLINK dump asked with RTEXT_FILTER_BRVLAN.

    Each port (and the bridge itself, as its own port) carries IFLA_AF_SPEC with
    one IFLA_BRIDGE_VLAN_INFO per VLAN, or a RANGE_BEGIN/RANGE_END pair.
    """
    rows = []
    for buf, start, end, _flags in _messages(chunks, RTM_NEWLINK):
        family, _type, index, _flags2, _change = _IFINFOMSG.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 16, end)
        if IFLA_AF_SPEC not in top:
            continue
        port = _cstr(buf, top[IFLA_IFNAME]) if IFLA_IFNAME in top else names.get(index, str(index))
        master = _u32(buf, top.get(IFLA_MASTER))
        bridge = names.get(master, str(master)) if master else port
        a_start, a_end = top[IFLA_AF_SPEC]
        range_start: int | None = None
        pos = a_start
        while pos + 4 <= a_end:
            alen, atype = _NLA.unpack_from(buf, pos)
            if alen < 4:
                break
            if atype & NLA_TYPE_MASK == IFLA_BRIDGE_VLAN_INFO and alen >= 8:
                vflags, vid = _VLAN_INFO.unpack_from(buf, pos + 4)
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
            pos += (alen + 3) & ~3
    return rows


# ---------------------------------------------------------------- routes


def table_name(table: int) -> str:
    return ROUTE_TABLES.get(table) or str(table)


def _prefix(family: int, addr: bytes, plen: int) -> str:
    if not addr:
        return "default" if plen == 0 else ("0.0.0.0" if family == AF_INET else "::") + f"/{plen}"
    text = socket.inet_ntop(family, addr)
    if plen == (32 if family == AF_INET else 128):
        return text
    return f"{text}/{plen}"


def decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    """RouteRows from an RTM_GETROUTE dump (IPv4 and IPv6; multicast families skipped).

    A multipath route gives one row per next hop (same dst, table and metric), so
    a rule asking "is there a route to X via Y" needs no special case.

    This is the hot loop of a 100,000-route table, hence the shape: attributes
    tested in the order the kernel sends them, one dict lookup for the four
    header names, and memoised text for gateways and sources (a big table has
    many routes and few next hops).
    """
    with _gc_paused():
        return _decode_routes(chunks, names)


def _decode_routes(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[RouteRow]:
    out: list[RouteRow] = []
    append = out.append
    unpack_hdr = _NLMSGHDR.unpack_from
    unpack_nla = _NLA.unpack_from
    unpack_rtm = _RTMSG.unpack_from
    u32 = _U32.unpack_from
    ntop = socket.inet_ntop
    names_get = names.get
    header_text: dict[tuple[int, int, int, int, int], tuple[str, str, str, str, str]] = {}
    addr_text: dict[bytes, str] = {}  # gateways and sources: few distinct values
    dev_text: dict[int, str] = {0: ""}
    shapes: dict[int, _RouteShape | None] = {}
    inet, inet6 = AF_INET, AF_INET6
    for chunk in chunks:
        offset = 0
        size = len(chunk)
        while offset + 16 <= size:
            length, mtype, mflags, _seq, _pid = unpack_hdr(chunk, offset)
            if length < 16:
                break
            if mtype != RTM_NEWROUTE:
                if raise_for_control(chunk, offset, mtype, mflags):
                    return out
                offset += (length + 3) & ~3
                continue
            if mflags & NLM_F_DUMP_INTR:
                raise DumpInterrupted()
            family, dst_len, _src_len, _tos, table, proto, scope, rtype, _rflags = unpack_rtm(
                chunk, offset + 16
            )
            if family != inet and family != inet6:
                offset += (length + 3) & ~3
                continue
            dst = gateway = prefsrc = b""
            oif = metric = 0
            multipath: tuple[int, int] | None = None
            via = ""
            pos = offset + 28
            end = offset + length
            shape = shapes.get(length)
            if shape is not None:
                values = shape.unpack(chunk, offset)
                if values is not None:
                    table_v, dst, gateway, oif, metric, prefsrc = values
                    if table_v is not None:
                        table = table_v
                    pos = end  # done: skip the walk below
                else:
                    shapes[length] = None  # this length comes in several layouts: walk them
            elif length not in shapes:
                shapes[length] = _RouteShape.learn(chunk, offset, length)
            while pos + 4 <= end:
                alen, atype = unpack_nla(chunk, pos)
                if alen < 4:
                    break
                if atype == RTA_TABLE:
                    table = u32(chunk, pos + 4)[0]
                elif atype == RTA_DST:
                    dst = chunk[pos + 4 : pos + alen]
                elif atype == RTA_GATEWAY:
                    gateway = chunk[pos + 4 : pos + alen]
                elif atype == RTA_OIF:
                    oif = u32(chunk, pos + 4)[0]
                elif atype == RTA_PRIORITY:
                    metric = u32(chunk, pos + 4)[0]
                elif atype == RTA_PREFSRC:
                    prefsrc = chunk[pos + 4 : pos + alen]
                elif atype == RTA_MULTIPATH:
                    multipath = (pos + 4, pos + alen)
                elif atype == RTA_VIA:
                    via = _via(chunk, pos + 4, pos + alen)
                pos += (alen + 3) & ~3
            key = (family, table, rtype, proto, scope)
            texts = header_text.get(key)
            if texts is None:
                texts = header_text[key] = _route_header_text(*key)
            table_text, type_text, proto_text, scope_text, fam = texts
            if dst:
                text = ntop(family, dst)
                dst_text = (
                    text if dst_len == (32 if family == inet else 128) else f"{text}/{dst_len}"
                )
            else:
                dst_text = _prefix(family, b"", dst_len)
            if prefsrc:
                src_text = addr_text.get(prefsrc)
                if src_text is None:
                    src_text = addr_text[prefsrc] = ntop(family, prefsrc)
            else:
                src_text = ""
            if multipath is None:
                if gateway:
                    gw_text = addr_text.get(gateway)
                    if gw_text is None:
                        gw_text = addr_text[gateway] = ntop(family, gateway)
                else:
                    gw_text = via
                dev = dev_text.get(oif)
                if dev is None:
                    dev = dev_text[oif] = names_get(oif) or str(oif)
                append(
                    RouteRow(
                        dst_text,
                        table_text,
                        type_text,
                        gw_text,
                        dev,
                        src_text,
                        proto_text,
                        scope_text,
                        metric,
                        fam,
                    )
                )
            else:
                for hop_oif, hop_gw in _nexthops(chunk, multipath[0], multipath[1], family):
                    dev = (names_get(hop_oif) or str(hop_oif)) if hop_oif else ""
                    append(
                        RouteRow(
                            dst_text,
                            table_text,
                            type_text,
                            hop_gw,
                            dev,
                            src_text,
                            proto_text,
                            scope_text,
                            metric,
                            fam,
                        )
                    )
            offset += (length + 3) & ~3
    return out


class _RouteShape:
    """The attribute layout shared by the route messages of one length.

    In a big table nearly every route message has the same attributes in the
    same order (table, dst, gateway, oif). Once one message of a length has been
    walked, the others of that length are read with a single ``struct`` call,
    after checking that every attribute header is the one expected; a message
    that differs is walked the normal way.
    """

    __slots__ = ("_expected", "_fields", "_headers", "_struct")

    # attribute -> position of its value in the (table, dst, gateway, oif, metric, prefsrc) result
    _SLOTS: ClassVar[dict[int, int]] = {
        RTA_TABLE: 0,
        RTA_DST: 1,
        RTA_GATEWAY: 2,
        RTA_OIF: 3,
        RTA_PRIORITY: 4,
        RTA_PREFSRC: 5,
    }
    _DEFAULTS = (None, b"", b"", 0, 0, b"")

    def __init__(
        self, fmt: str, headers: list[int], expected: tuple[int, ...], fields: list[tuple[int, int]]
    ):
        self._struct = struct.Struct(fmt)
        self._headers = operator.itemgetter(*headers)
        self._expected = expected
        self._fields = fields  # (index in the unpacked tuple, slot)

    @classmethod
    def learn(cls, buf: bytes, offset: int, length: int) -> _RouteShape | None:
        """The shape of the message at ``offset``, or None when it cannot have one."""
        fmt = ["=16x12x"]
        headers: list[int] = []
        expected: list[int] = []
        fields: list[tuple[int, int]] = []
        index = 0
        pos = offset + 28
        end = offset + length
        while pos + 4 <= end:
            alen, atype = _NLA.unpack_from(buf, pos)
            if alen < 4 or pos + alen > end:
                return None
            if atype in (RTA_MULTIPATH, RTA_VIA):
                return None
            padded = (alen + 3) & ~3
            fmt.append("HH")
            headers += [index, index + 1]
            expected += [alen, atype]
            index += 2
            payload = alen - 4
            slot = cls._SLOTS.get(atype)
            if slot is None:
                fmt.append(f"{padded - 4}x")
            elif slot in (0, 3, 4):
                if payload != 4:
                    return None
                fmt.append("I")
                fields.append((index, slot))
                index += 1
                if padded > alen:
                    fmt.append(f"{padded - alen}x")
            else:
                fmt.append(f"{payload}s")
                fields.append((index, slot))
                index += 1
                if padded > alen:
                    fmt.append(f"{padded - alen}x")
            pos += padded
        if pos != end or not headers:
            return None
        shape = cls("".join(fmt), headers, tuple(expected), fields)
        return shape if shape._struct.size == length else None

    def unpack(self, buf: bytes, offset: int) -> list[object] | None:
        values = self._struct.unpack_from(buf, offset)
        if self._headers(values) != self._expected:
            return None
        out = list(self._DEFAULTS)
        for index, slot in self._fields:
            out[slot] = values[index]
        return out


def _route_header_text(
    family: int, table: int, rtype: int, proto: int, scope: int
) -> tuple[str, str, str, str, str]:
    return (
        ROUTE_TABLES.get(table) or str(table),
        ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype),
        ROUTE_PROTOCOLS.get(proto) or str(proto),
        ROUTE_SCOPES.get(scope) or str(scope),
        FAMILIES[family],
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a big dump becomes rows.

    Rows hold no reference cycles, but allocating 100,000 of them triggers
    dozens of generation-0/1 collections that each walk the young objects: about
    a tenth of the decoding time, for nothing. Left alone if someone else
    (the app, another probe thread) already paused it.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _via(buf: bytes, start: int, end: int) -> str:
    """RTA_VIA: an address of another family (IPv4 route via an IPv6 next hop)."""
    (family,) = _U16.unpack_from(buf, start)
    addr = buf[start + 2 : end]
    try:
        return socket.inet_ntop(family, addr)
    except (OSError, ValueError):
        return addr.hex()


def _nexthops(buf: bytes, start: int, end: int, family: int) -> list[tuple[int, str]]:
    hops = []
    pos = start
    while pos + 8 <= end:
        hop_len, _flags, _hops, ifindex = _RTNEXTHOP.unpack_from(buf, pos)
        if hop_len < 8:
            break
        inner = attrs(buf, pos + 8, pos + hop_len)
        gateway = ""
        if RTA_GATEWAY in inner:
            s, e = inner[RTA_GATEWAY]
            gateway = socket.inet_ntop(family, buf[s:e])
        elif RTA_VIA in inner:
            gateway = _via(buf, *inner[RTA_VIA])
        hops.append((ifindex, gateway))
        pos += (hop_len + 3) & ~3
    return hops


def decode_route_reply(
    chunk: bytes, dst: str, names: Mapping[int, str], src: str | None = None
) -> RouteLookupRow:
    """The RouteLookupRow for the kernel's answer to one RTM_GETROUTE request.

    ``prefsrc`` is the source address the packet would leave with: the kernel's
    RTA_PREFSRC, or, when the request named a source (``ip route get X from
    S``), that source, which the kernel then echoes as RTA_SRC instead.
    """
    rows = decode_routes([chunk], names)
    if not rows:
        return RouteLookupRow(dst=dst, type="error", error="the kernel sent no route")
    first = rows[0]
    return RouteLookupRow(
        dst=dst,
        type=first.type,
        dev=first.dev,
        gateway=first.gateway,
        prefsrc=first.prefsrc or (src or ""),
        table=first.table,
    )


# ---------------------------------------------------------------- neighbours / addresses


def decode_neighbours(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[NeighRow]:
    """NeighRows (ARP and NDP entries) from an RTM_GETNEIGH dump."""
    out: list[NeighRow] = []
    unpack_nla = _NLA.unpack_from
    ntop = socket.inet_ntop
    for buf, start, end, _flags in _messages(chunks, RTM_NEWNEIGH):
        family, index, state, _nflags, _type = _NDMSG.unpack_from(buf, start)
        if family != AF_INET and family != AF_INET6:
            continue
        dst = b""
        lladdr = ""
        pos = start + 12
        while pos + 4 <= end:
            alen, atype = unpack_nla(buf, pos)
            if alen < 4:
                break
            if atype == NDA_DST:
                dst = buf[pos + 4 : pos + alen]
            elif atype == NDA_LLADDR:
                lladdr = buf[pos + 4 : pos + alen].hex(":")
            pos += (alen + 3) & ~3
        if not dst:
            continue
        out.append(
            NeighRow(
                ifname=names.get(index) or str(index),
                address=ntop(family, dst),
                lladdr=lladdr,
                state=nud_state_name(state),
                family="inet" if family == AF_INET else "inet6",
            )
        )
    return out


def addr_flag_names(family: int, flags: int) -> tuple[str, ...]:
    """iproute2's words for IFA_F_* bits (``dynamic`` = not permanent)."""
    out = []
    if flags & IFA_F_SECONDARY:
        out.append("secondary" if family == AF_INET else "temporary")
    for bit, name in ADDR_FLAG_NAMES:
        if flags & bit:
            out.append(name)
    if not flags & IFA_F_PERMANENT:
        out.append("dynamic")
    return tuple(out)


def decode_addrs(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[AddrRow]:
    """AddrRows from an RTM_GETADDR dump (IPv4 and IPv6)."""
    out: list[AddrRow] = []
    for buf, start, end, _flags in _messages(chunks, RTM_NEWADDR):
        family, prefixlen, flags8, scope, index = _IFADDRMSG.unpack_from(buf, start)
        if family not in FAMILIES:
            continue
        top = attrs(buf, start + 8, end)
        span = top.get(IFA_LOCAL) or top.get(IFA_ADDRESS)
        if span is None:
            continue
        flags = _u32(buf, top[IFA_FLAGS]) if IFA_FLAGS in top else flags8
        out.append(
            AddrRow(
                ifname=names.get(index) or str(index),
                family=FAMILIES[family],
                address=socket.inet_ntop(family, buf[span[0] : span[1]]),
                prefixlen=prefixlen,
                scope=ADDR_SCOPES.get(scope) or str(scope),
                flags=addr_flag_names(family, flags),
            )
        )
    return out


__all__ = [
    "NLMSG_DONE",
    "NLMSG_ERROR",
    "DecodedLink",
    "attrs",
    "bridge_rows",
    "bridge_supports_vlans",
    "decode_addrs",
    "decode_bridge_ports",
    "decode_bridge_vlans",
    "decode_fdb",
    "decode_links",
    "decode_neighbours",
    "decode_route_reply",
    "decode_routes",
    "link_rows",
    "table_name",
]
