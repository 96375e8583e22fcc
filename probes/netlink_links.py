"""Decode an RTM_GETLINK dump: interfaces (LinkRow) and bridge options (BridgeRow).

A host with thousands of taps sends ~45 attributes per interface; the loop
tests membership in the handful it needs and skips the rest by length.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .netlink_wire import (
    NLM_F_DUMP_INTR,
    RTM_NEWLINK,
    DumpInterrupted,
    raise_for_control,
    IFF_LOWER_UP,
    IFF_NOARP,
    IFF_UP,
    IFINFOMSG_S,
    NLA_HEADER,
    NLA_TYPE_MASK,
    NLMSG_HEADER,
    S32,
    U32,
    attrs,
    cstr,
    read_u8,
    read_u32,
)
from .rows import BridgeRow, LinkRow

_STATS64 = struct.Struct("=8Q")  # the first eight counters of rtnl_link_stats64

# --- link attributes (linux/if_link.h) ---
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_STATS64 = 23
IFLA_LINK_NETNSID = 37
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_BR_FORWARD_DELAY = 1
IFLA_BR_AGEING_TIME = 4
IFLA_BR_STP_STATE = 5
IFLA_BR_VLAN_FILTERING = 7
IFLA_BR_NF_CALL_IPTABLES = 36
IFLA_BR_VLAN_DEFAULT_PVID = 39  # only sent by kernels built with bridge VLAN filtering
ARPHRD_LOOPBACK = 772

# USER_HZ: bridge timers travel as clock_t hundredths of a second.
_USER_HZ = 100.0

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")


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
    unpack_hdr = NLMSG_HEADER.unpack_from
    unpack_nla = NLA_HEADER.unpack_from
    unpack_ifi = IFINFOMSG_S.unpack_from
    u32 = U32.unpack_from
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
                    netnsid = S32.unpack_from(chunk, pos + 4)[0]
                elif atype == IFLA_LINKINFO:
                    info = attrs(chunk, pos + 4, pos + alen)
                    if IFLA_INFO_KIND in info:
                        kind = cstr(chunk, info[IFLA_INFO_KIND])
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
                stp_enabled=read_u32(data, opts.get(IFLA_BR_STP_STATE)) != 0,
                forward_delay_s=read_u32(data, opts.get(IFLA_BR_FORWARD_DELAY)) / _USER_HZ,
                vlan_filtering=read_u8(data, opts.get(IFLA_BR_VLAN_FILTERING)) != 0,
                ageing_time_s=read_u32(data, opts.get(IFLA_BR_AGEING_TIME)) / _USER_HZ,
                nf_call_iptables=read_u8(data, opts.get(IFLA_BR_NF_CALL_IPTABLES)) != 0,
            )
        )
    return rows
