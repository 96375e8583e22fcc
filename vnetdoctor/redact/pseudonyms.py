"""The address map of one export: which addresses identify nobody and are kept, the
originals collected, and their pseudonyms, allocated so that none is an address that
occurs anywhere in the original (subnets, EUI-64 and solicited-node links kept)."""

from __future__ import annotations

import ipaddress
import re

from vnetdoctor.probes.errors import UsageError

from .addresses import eui64_of_mac, mac_of_eui64, v4_int


class RedactionError(UsageError):
    """Redaction could not be made complete; nothing is written. One line."""


_V4_KEPT = [
    ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4")
]
_V4_LINKLOCAL = ipaddress.ip_network("169.254.0.0/16")
_V4_POOL = [0xC00002, 0xC63364, 0xCB0071] + [0xC61200 + i for i in range(512)]  # /24 numbers
_V4_LL_POOL = [0xA9FE00 + i for i in range(1, 255)]
_V6_LL_PREFIX = 0xFE80_0000_0000_0000
_V6_POOL_BASE = 0x2001_0DB8_0000_0000
_SN_PREFIX = int(ipaddress.IPv6Address("ff02::1:ff00:0")) >> 24
_IID_BASE = 0x0200_0000_0001_0000
_MAC_BASE = 0x020000_000000
_BROADCAST_MAC = b"\xff" * 6
_ZERO_MAC = b"\x00" * 6


class AddressMap:
    """Original IPv4, IPv6 and MAC addresses → pseudonyms, one mapping per export.

    Addresses are collected first (``_add_*``) and given pseudonyms at the first use
    (``map_*``, or :meth:`_allocate` directly); newcomers after that are allocated the
    next time. :class:`~.redactor.Redactor` finds the addresses and applies the map.
    """

    def __init__(self) -> None:
        self._seen_v4: dict[int, None] = {}
        self._seen_v6: dict[int, None] = {}
        self._seen_mac: dict[bytes, None] = {}
        self._v4: dict[int, int] = {}
        self._v6: dict[int, int] = {}
        self._mac: dict[bytes, bytes] = {}
        self._net4: dict[int, int] = {}
        self._pref6: dict[int, int] = {}
        self._iid: dict[int, int] = {}
        self._sn: dict[int, int] = {}
        self._allocated = False
        self._hex_re: re.Pattern[str] | None = None
        self._bytes_re: re.Pattern[bytes] | None = None
        self._bytes_map: dict[bytes, bytes] = {}
        self._odd_re: re.Pattern[str] | None = None
        self._odd_map: dict[str, str] = {}

    # -- what is kept --------------------------------------------------------------

    @staticmethod
    def _keep_v4(a: int) -> bool:
        addr = ipaddress.IPv4Address(a)
        return any(addr in n for n in _V4_KEPT)

    @staticmethod
    def _is_sn(a: int) -> bool:
        return a >> 24 == _SN_PREFIX

    def _keep_v6(self, a: int) -> bool:
        addr = ipaddress.IPv6Address(a)
        if addr.ipv4_mapped is not None:
            return False
        if addr.is_unspecified or addr.is_loopback:
            return True
        if addr.is_multicast:
            return not self._is_sn(a)
        return a >> 64 == _V6_LL_PREFIX and (a & 0xFFFF_FFFF_FFFF_FFFF) <= 0xFFFF

    @staticmethod
    def _keep_mac(m: bytes) -> bool:
        if m in (_BROADCAST_MAC, _ZERO_MAC):
            return True
        if m[0] & 1:  # group address: multicast MACs carry no identity, except solicited-node
            return not m.startswith(b"\x33\x33\xff")
        return False

    # -- collecting ----------------------------------------------------------------

    def _add_v4(self, a: int) -> None:
        if not self._keep_v4(a):
            self._seen_v4.setdefault(a)
            self._invalidate()

    def _add_v6(self, a: int) -> None:
        if self._keep_v6(a):
            return
        mapped = ipaddress.IPv6Address(a).ipv4_mapped
        if mapped is not None:
            self._add_v4(int(mapped))
        self._seen_v6.setdefault(a)
        iid = a & 0xFFFF_FFFF_FFFF_FFFF
        if (iid >> 24) & 0xFFFF == 0xFFFE and not self._is_sn(a):
            self._add_mac(mac_of_eui64(iid))
        self._invalidate()

    def _add_mac(self, m: bytes) -> None:
        if not self._keep_mac(m):
            self._seen_mac.setdefault(bytes(m))
            self._invalidate()

    def _invalidate(self) -> None:
        if self._allocated:
            self._allocated = False  # new originals after use: allocate the newcomers next time

    # -- allocating ----------------------------------------------------------------

    def _allocate(self) -> None:
        """Give every collected address a pseudonym, in first-seen order (deterministic)."""
        if self._allocated:
            return
        used_nets = {a >> 8 for a in self._seen_v4}
        for a in self._seen_v4:
            if a in self._v4:
                continue
            net = a >> 8
            if net not in self._net4:
                pool = _V4_LL_POOL if ipaddress.IPv4Address(a) in _V4_LINKLOCAL else _V4_POOL
                taken = set(self._net4.values())
                choice = next((p for p in pool if p not in used_nets and p not in taken), None)
                if choice is None:
                    raise RedactionError("too many distinct IPv4 networks to redact")
                self._net4[net] = choice
            self._v4[a] = (self._net4[net] << 8) | (a & 0xFF)

        used_macs = set(self._seen_mac)
        n = len(self._mac)
        for m in self._seen_mac:
            if m in self._mac or m.startswith(b"\x33\x33\xff"):
                continue
            while True:
                n += 1
                cand = (_MAC_BASE + n).to_bytes(6, "big")
                if cand not in used_macs:
                    break
            self._mac[m] = cand

        used_prefixes = {a >> 64 for a in self._seen_v6}
        used_iids = {a & 0xFFFF_FFFF_FFFF_FFFF for a in self._seen_v6}
        iid_n = len(self._iid)
        unicast_low24: dict[int, int] = {}
        for a in self._seen_v6:
            if a in self._v6 or self._is_sn(a):
                continue
            mapped = ipaddress.IPv6Address(a).ipv4_mapped
            if mapped is not None:
                self._v6[a] = (0xFFFF << 32) | self._v4[int(mapped)]
                continue
            prefix, iid = a >> 64, a & 0xFFFF_FFFF_FFFF_FFFF
            if prefix not in self._pref6:
                if prefix == _V6_LL_PREFIX:
                    self._pref6[prefix] = prefix
                else:
                    k = len([p for p in self._pref6.values() if p != _V6_LL_PREFIX])
                    while True:
                        k += 1
                        cand = _V6_POOL_BASE + k
                        if cand not in used_prefixes:
                            break
                    self._pref6[prefix] = cand
            if iid not in self._iid:
                if iid <= 0xFFFF:
                    self._iid[iid] = iid
                elif (iid >> 24) & 0xFFFF == 0xFFFE:
                    self._iid[iid] = eui64_of_mac(
                        self._mac.get(mac_of_eui64(iid), mac_of_eui64(iid))
                    )
                else:
                    while True:
                        iid_n += 1
                        cand = _IID_BASE + iid_n
                        if cand not in used_iids:
                            break
                    self._iid[iid] = cand
            self._v6[a] = (self._pref6[prefix] << 64) | self._iid[iid]
            unicast_low24.setdefault(a & 0xFFFFFF, self._v6[a] & 0xFFFFFF)

        # Solicited-node multicast (IPv6 and its 33:33:ff MAC) follows its unicast address.
        sn_low = [a & 0xFFFFFF for a in self._seen_v6 if self._is_sn(a)]
        sn_low += [
            int.from_bytes(m[3:], "big") for m in self._seen_mac if m.startswith(b"\x33\x33\xff")
        ]
        taken_low = set(self._sn.values()) | set(unicast_low24.values())
        seen_low = set(sn_low)
        c = 0xA00000
        for low in sn_low:
            if low in self._sn:
                continue
            if low in unicast_low24:
                self._sn[low] = unicast_low24[low]
                continue
            while c in taken_low or c in seen_low:
                c += 1
            self._sn[low] = c
            taken_low.add(c)
        for a in self._seen_v6:
            if self._is_sn(a):
                self._v6[a] = (_SN_PREFIX << 24) | self._sn[a & 0xFFFFFF]
        for m in self._seen_mac:
            if m.startswith(b"\x33\x33\xff"):
                self._mac[m] = b"\x33\x33\xff" + self._sn[int.from_bytes(m[3:], "big")].to_bytes(
                    3, "big"
                )
        # A solicited-node address of a kept interface id (…::11) maps to itself: it tells
        # nothing the kept part does not, so it is kept rather than reported as a leak.
        for a in [a for a in self._seen_v6 if self._v6.get(a) == a]:
            del self._seen_v6[a], self._v6[a]
        for m in [m for m in self._seen_mac if self._mac.get(m) == m]:
            del self._seen_mac[m], self._mac[m]

        self._build_patterns()
        self._allocated = True

    def _build_patterns(self) -> None:
        """Byte patterns for frames and blobs, and the hex spellings for text (longest first)."""
        bmap: dict[bytes, bytes] = {}
        for a, p in self._v6.items():
            bmap[a.to_bytes(16, "big")] = p.to_bytes(16, "big")
        for m, p in self._mac.items():
            bmap[m] = p
        for a, p in self._v4.items():
            bmap[a.to_bytes(4, "big")] = p.to_bytes(4, "big")
        self._bytes_map = bmap
        keys = sorted(bmap, key=len, reverse=True)
        self._bytes_re = re.compile(b"|".join(re.escape(k) for k in keys)) if keys else None
        hexes: dict[str, str] = {}
        for orig, new in bmap.items():
            hexes[orig.hex()] = new.hex()
            if len(orig) == 4:  # /proc/net/route and /proc/net/tcp spell IPv4 little-endian
                hexes[orig[::-1].hex()] = new[::-1].hex()
        self._hex_map = hexes
        # Spellings renamed only for addresses already known (never learnt from): an integer
        # could be any counter, a Cisco-dotted group any number.
        odd: dict[str, str] = {}
        for a, p in self._v4.items():
            odd[str(a)] = str(p)
        for m, p in self._mac.items():
            h, q = m.hex(), p.hex()
            odd[f"{h[0:4]}.{h[4:8]}.{h[8:12]}"] = f"{q[0:4]}.{q[4:8]}.{q[8:12]}"
        self._odd_map = odd
        self._odd_re = (
            re.compile(
                r"(?<![0-9A-Fa-f.])(?:" + "|".join(re.escape(k) for k in sorted(odd, key=len, reverse=True))
                + r")(?![0-9A-Fa-f]|\.[0-9A-Fa-f])",
                re.IGNORECASE,
            )
            if odd
            else None
        )
        alts = sorted(hexes, key=len, reverse=True)
        self._hex_re = (
            re.compile(r"(?<![0-9A-Fa-f])(?:" + "|".join(alts) + r")(?![0-9A-Fa-f])", re.IGNORECASE)
            if alts
            else None
        )

    # -- mapping one address -------------------------------------------------------

    def map_v4(self, text: str) -> str:
        a = v4_int(text)
        if self._keep_v4(a):
            return text
        if a not in self._v4:
            self._add_v4(a)
            self._allocate()
        new = self._v4.get(a, a)
        if new == a:
            return text
        return str(ipaddress.IPv4Address(new))

    def map_v6(self, text: str) -> str:
        a = int(ipaddress.IPv6Address(text))
        if self._keep_v6(a):
            return text
        if a not in self._v6:
            self._add_v6(a)
            self._allocate()
        new = self._v6.get(a, a)
        out = str(ipaddress.IPv6Address(new))
        if ipaddress.IPv6Address(new).ipv4_mapped is not None:
            out = "::ffff:" + str(ipaddress.IPv6Address(new).ipv4_mapped)
        return out.upper() if text.isupper() else out

    def map_mac(self, text: str) -> str:
        sep = "-" if "-" in text else ":"
        m = bytes.fromhex(re.sub("[:-]", "", text))
        if self._keep_mac(m):
            return text
        if m not in self._mac:
            self._add_mac(m)
            self._allocate()
        out = sep.join(f"{b:02x}" for b in self._mac.get(m, m))
        return out.upper() if text.isupper() else out
