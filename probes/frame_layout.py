"""Where the addresses and the checksums are in a captured frame.

Redaction rewrites address bytes; every checksum that covers them must then be
corrected, or Wireshark flags every redacted frame as corrupt (and a reviewer
stops trusting the capture). This module knows the layouts: Ethernet with
802.1Q/802.1ad tags, Linux cooked captures (SLL, SLL2), raw IP, ARP, IPv4,
IPv6 with extension headers, ICMP and ICMPv6 (the packet quoted in an error,
neighbour discovery options), UDP (DHCP/BOOTP), TCP and STP BPDUs.

Checksums are corrected incrementally (RFC 1624) over the bytes that were
captured, so a frame cut short by the snap length still gets the right value
(the missing bytes did not change), and a checksum that was never right (an
offloaded frame captured on its sender) stays exactly as wrong as it was.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field


def u16(data: bytes | bytearray, off: int) -> int:
    return (data[off] << 8) | data[off + 1]


@dataclass(frozen=True)
class Scope:
    """A checksum: where it is, which bytes it covers, which address bytes its pseudo-header holds."""

    ck: int
    start: int
    end: int
    pseudo: tuple[tuple[int, int], ...] = ()
    zero_means_none: bool = False  # UDP over IPv4: 0 means "no checksum"
    depth: int = 0


@dataclass
class FrameLayout:
    """Offsets of the MAC, IPv4 and IPv6 addresses found in the headers, and the checksums."""

    macs: list[int] = field(default_factory=list)
    v4: list[int] = field(default_factory=list)
    v6: list[int] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)


_ICMP4_ERRORS = {3, 4, 5, 11, 12}
_ICMP6_ERRORS = {1, 2, 3, 4}
_V6_EXT = {0, 43, 60}


def parse_frame(data: bytes, linktype: int) -> FrameLayout:
    """Offsets of the addresses in the headers we understand, and the checksums to fix."""
    p = FrameLayout()
    n = len(data)
    l3, ethertype = -1, -1
    if linktype == 1 and n >= 14:
        p.macs += [0, 6]
        ethertype, off = u16(data, 12), 14
        while ethertype in (0x8100, 0x88A8, 0x9100) and n >= off + 4:
            ethertype, off = u16(data, off + 2), off + 4
        if ethertype <= 1500:  # 802.3 length field: LLC follows
            _parse_llc(data, off, p)
            return p
        l3 = off
    elif linktype == 113 and n >= 16:
        if u16(data, 2) == 1 and u16(data, 4) == 6:
            p.macs.append(6)
        ethertype, l3 = u16(data, 14), 16
    elif linktype == 276 and n >= 20:
        if u16(data, 8) == 1 and data[11] == 6:
            p.macs.append(12)
        ethertype, l3 = u16(data, 0), 20
    elif linktype in (101, 12, 14, 228, 229) and n >= 1:
        l3 = 0
        ethertype = {4: 0x0800, 6: 0x86DD}.get(data[0] >> 4, -1)
    if l3 < 0:
        return p
    if ethertype == 0x0806:
        _parse_arp(data, l3, p)
    elif ethertype == 0x0800:
        _parse_ipv4(data, l3, n, p, 0)
    elif ethertype == 0x86DD:
        _parse_ipv6(data, l3, n, p, 0)
    return p


def _parse_llc(data: bytes, off: int, p: FrameLayout) -> None:
    # STP/RSTP BPDU: LLC 42 42 03, then root id and bridge id, each 2 bytes priority + MAC.
    if data[off : off + 3] == b"\x42\x42\x03" and len(data) >= off + 3 + 25:
        bpdu = off + 3
        if data[bpdu + 3] in (0x00, 0x02):
            p.macs += [bpdu + 7, bpdu + 19]


def _parse_arp(data: bytes, off: int, p: FrameLayout) -> None:
    ethernet_ipv4 = u16(data, off) == 1 and u16(data, off + 2) == 0x0800
    if len(data) >= off + 28 and ethernet_ipv4 and data[off + 4] == 6 and data[off + 5] == 4:
        p.macs += [off + 8, off + 18]
        p.v4 += [off + 14, off + 24]


def _parse_ipv4(data: bytes, off: int, limit: int, p: FrameLayout, depth: int) -> None:
    if len(data) < off + 20 or data[off] >> 4 != 4:
        return
    ihl = (data[off] & 0x0F) * 4
    if ihl < 20 or len(data) < off + ihl:
        return
    total = u16(data, off + 2)
    end = min(off + total, limit) if total >= ihl else limit
    p.v4 += [off + 12, off + 16]
    p.scopes.append(Scope(off + 10, off, off + ihl, depth=depth))
    if u16(data, off + 6) & 0x1FFF:
        return  # a later fragment: no transport header here
    proto, l4 = data[off + 9], off + ihl
    pseudo = ((off + 12, 8),)
    _parse_l4(data, l4, end, proto, pseudo, p, depth, v6=False)


def _parse_ipv6(data: bytes, off: int, limit: int, p: FrameLayout, depth: int) -> None:
    if len(data) < off + 40 or data[off] >> 4 != 6:
        return
    plen = u16(data, off + 4)
    end = min(off + 40 + plen, limit) if plen else limit
    p.v6 += [off + 8, off + 24]
    nh, pos = data[off + 6], off + 40
    while nh in _V6_EXT | {44, 51} and pos + 8 <= end:
        if nh == 44:
            if u16(data, pos + 2) & 0xFFF8:
                return  # a later fragment
            nxt, size = data[pos], 8
        elif nh == 51:
            nxt, size = data[pos], (data[pos + 1] + 2) * 4
        else:
            nxt, size = data[pos], (data[pos + 1] + 1) * 8
        nh, pos = nxt, pos + size
    _parse_l4(data, pos, end, nh, ((off + 8, 32),), p, depth, v6=True)


def _parse_l4(
    data: bytes,
    l4: int,
    end: int,
    proto: int,
    pseudo: tuple[tuple[int, int], ...],
    p: FrameLayout,
    depth: int,
    *,
    v6: bool,
) -> None:
    n = min(end, len(data))
    if proto == 6 and l4 + 18 <= n:
        p.scopes.append(Scope(l4 + 16, l4, end, pseudo, depth=depth))
    elif proto == 17 and l4 + 8 <= n:
        p.scopes.append(Scope(l4 + 6, l4, end, pseudo, zero_means_none=not v6, depth=depth))
        ports = {u16(data, l4), u16(data, l4 + 2)}
        if ports & {67, 68} and l4 + 8 + 34 <= n:
            bootp = l4 + 8
            p.v4 += [bootp + 12, bootp + 16, bootp + 20, bootp + 24]
            if data[bootp + 1] == 1 and data[bootp + 2] == 6:
                p.macs.append(bootp + 28)
    elif proto == 1 and not v6 and l4 + 4 <= n:
        p.scopes.append(Scope(l4 + 2, l4, end, depth=depth))
        icmp_type = data[l4]
        if icmp_type == 5 and l4 + 8 <= n:
            p.v4.append(l4 + 4)  # redirect: the better gateway
        if icmp_type in _ICMP4_ERRORS and l4 + 8 + 20 <= n:
            _parse_ipv4(data, l4 + 8, end, p, depth + 1)
    elif proto == 58 and v6 and l4 + 4 <= n:
        p.scopes.append(Scope(l4 + 2, l4, end, pseudo, depth=depth))
        icmp_type = data[l4]
        if icmp_type in _ICMP6_ERRORS and l4 + 8 + 40 <= n:
            _parse_ipv6(data, l4 + 8, end, p, depth + 1)
            return
        opts = None
        if icmp_type in (135, 136) and l4 + 24 <= n:
            p.v6.append(l4 + 8)
            opts = l4 + 24
        elif icmp_type == 133:
            opts = l4 + 8
        elif icmp_type == 134:
            opts = l4 + 16
        elif icmp_type == 137 and l4 + 40 <= n:
            p.v6 += [l4 + 8, l4 + 24]
            opts = l4 + 40
        while opts is not None and opts + 8 <= n:
            kind, length = data[opts], data[opts + 1] * 8
            if length == 0:
                break
            if kind in (1, 2) and length == 8:
                p.macs.append(opts + 2)
            opts += length


def _ocsum(data: bytes | bytearray) -> int:
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data)) if data else 0
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _covered_sum(buf: bytes | bytearray, scope: Scope) -> int:
    end = min(scope.end, len(buf))
    region = bytearray(buf[scope.start : end])
    rel = scope.ck - scope.start
    region[rel : rel + 2] = b"\x00\x00"
    total = _ocsum(region) + sum(_ocsum(buf[o : o + k]) for o, k in scope.pseudo)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def fix_checksum(orig: bytes, buf: bytearray, scope: Scope) -> None:
    """RFC 1624: HC' = ~(~HC + ~m + m'), over the bytes we have (the rest did not change)."""
    if scope.ck + 2 > len(buf):
        return
    old_ck = u16(orig, scope.ck)
    if scope.zero_means_none and old_ck == 0:
        return
    old_sum, new_sum = _covered_sum(orig, scope), _covered_sum(buf, scope)
    if old_sum == new_sum:
        return
    x = (~old_ck & 0xFFFF) + (~old_sum & 0xFFFF) + new_sum
    while x >> 16:
        x = (x & 0xFFFF) + (x >> 16)
    new_ck = ~x & 0xFFFF
    if scope.zero_means_none and new_ck == 0:
        new_ck = 0xFFFF
    buf[scope.ck : scope.ck + 2] = new_ck.to_bytes(2, "big")


def internet_checksum(data: bytes) -> int:
    """The Internet checksum of ``data`` (for tests and callers building frames)."""
    return ~_ocsum(data) & 0xFFFF
