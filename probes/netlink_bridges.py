"""Decode the bridge family's dumps: ports (STP state, flags), forwarding database, VLANs.

Ports come from an AF_BRIDGE RTM_GETLINK dump (IFLA_PROTINFO, what ``bridge
link`` reads), the fdb from an AF_BRIDGE RTM_GETNEIGH dump, VLANs from the
IFLA_AF_SPEC of an AF_BRIDGE link dump asked with RTEXT_FILTER_BRVLAN.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

from .netlink_links import IFLA_IFNAME, IFLA_MASTER, IFLA_OPERSTATE
from .netlink_neighbours import NDA_LLADDR, nud_state_name
from .netlink_socket import AF_BRIDGE, RTM_NEWLINK, RTM_NEWNEIGH
from .netlink_wire import (
    IFF_LOWER_UP,
    IFF_UP,
    IFINFOMSG_S,
    NDMSG_S,
    NLA_HEADER,
    NLA_TYPE_MASK,
    attrs,
    cstr,
    messages_of,
    read_u8,
    read_u16,
    read_u32,
)
from .rows import BridgePortRow, BridgeVlanRow, FdbRow

_VLAN_INFO = struct.Struct("=HH")

IFLA_PROTINFO = 12
IFLA_AF_SPEC = 26
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
NDA_VLAN = 5
NDA_MASTER = 9
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NUD_REACHABLE = 0x02
NUD_STALE = 0x04

STP_STATES = ("disabled", "listening", "learning", "forwarding", "blocking")


def decode_bridge_ports(chunks: Iterable[bytes], names: Mapping[int, str]) -> list[BridgePortRow]:
    """BridgePortRows from an AF_BRIDGE RTM_GETLINK dump (IFLA_PROTINFO per port)."""
    rows = []
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWLINK):
        family, _type, index, flags, _change = IFINFOMSG_S.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 16, end)
        if IFLA_PROTINFO not in top or IFLA_MASTER not in top:
            continue
        port = cstr(buf, top[IFLA_IFNAME]) if IFLA_IFNAME in top else names.get(index, str(index))
        master = read_u32(buf, top[IFLA_MASTER])
        operstate = read_u8(buf, top.get(IFLA_OPERSTATE))
        p_start, p_end = top[IFLA_PROTINFO]
        info = attrs(buf, p_start, p_end)
        state = read_u8(buf, info.get(IFLA_BRPORT_STATE))
        rows.append(
            BridgePortRow(
                bridge=names.get(master, str(master)),
                port=port,
                state=STP_STATES[state] if state < len(STP_STATES) else str(state),
                flood=bool(read_u8(buf, info.get(IFLA_BRPORT_UNICAST_FLOOD), 1)),
                bcast_flood=bool(read_u8(buf, info.get(IFLA_BRPORT_BCAST_FLOOD), 1)),
                mcast_flood=bool(read_u8(buf, info.get(IFLA_BRPORT_MCAST_FLOOD), 1)),
                bpdu_guard=bool(read_u8(buf, info.get(IFLA_BRPORT_GUARD), 0)),
                learning=bool(read_u8(buf, info.get(IFLA_BRPORT_LEARNING), 1)),
                cost=read_u32(buf, info.get(IFLA_BRPORT_COST)),
                priority=read_u16(buf, info.get(IFLA_BRPORT_PRIORITY)),
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
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWNEIGH):
        family, index, state, _nflags, _type = NDMSG_S.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 12, end)
        if NDA_MASTER not in top or NDA_LLADDR not in top:
            continue
        master = read_u32(buf, top[NDA_MASTER])
        s, e = top[NDA_LLADDR]
        rows.append(
            FdbRow(
                bridge=names.get(master, str(master)),
                port=names.get(index, str(index)),
                mac=buf[s:e].hex(":"),
                vlan=read_u16(buf, top.get(NDA_VLAN)),
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
    for buf, start, end, _flags in messages_of(chunks, RTM_NEWLINK):
        family, _type, index, _flags2, _change = IFINFOMSG_S.unpack_from(buf, start)
        if family != AF_BRIDGE:
            continue
        top = attrs(buf, start + 16, end)
        if IFLA_AF_SPEC not in top:
            continue
        port = cstr(buf, top[IFLA_IFNAME]) if IFLA_IFNAME in top else names.get(index, str(index))
        master = read_u32(buf, top.get(IFLA_MASTER))
        bridge = names.get(master, str(master)) if master else port
        a_start, a_end = top[IFLA_AF_SPEC]
        range_start: int | None = None
        pos = a_start
        while pos + 4 <= a_end:
            alen, atype = NLA_HEADER.unpack_from(buf, pos)
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
