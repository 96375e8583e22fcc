"""Consistent renaming of IPv4, IPv6 and MAC addresses, in text, JSON and captured frames.

An exported session goes into a ticket, a chat or a vendor's bug tracker, so
``--redact`` must hide which machines and networks were involved while keeping
the report *useful*: the same address becomes the same pseudonym everywhere in
one export (report, raw record and pcap agree), and the relations a diagnosis
rests on survive:

- IPv4 is renamed per /24 network, host octet kept: ``198.18.0.1`` and
  ``198.18.0.11`` stay in one subnet (and ``.1`` still looks like a gateway),
  while a guest on another /24 stays visibly elsewhere (``ip.subnet_mismatch``).
  Pseudonym networks come from the documentation ranges (192.0.2/24,
  198.51.100/24, 203.0.113/24, then 198.18.0.0/15) and never coincide with a
  network of the original, so no original address can survive by accident.
  Link-local 169.254.x.y stays link-local (it *is* the evidence of a DHCP
  failure).
- IPv6 is renamed per /64 (to 2001:db8:0:N::/64; fe80::/64 stays fe80::/64) and
  per interface id: an EUI-64 id derived from a MAC becomes the EUI-64 id of that
  MAC's pseudonym, so a link-local address still matches its interface's MAC.
  Solicited-node multicast follows the unicast address it was derived from.
- MAC addresses become ``02:00:00:xx:xx:xx`` (locally administered).
- Addresses that identify nobody are kept, because they carry meaning:
  0.0.0.0/8, 127/8, multicast (224/4, ff00::/8, 01:00:5e…, 33:33…), 240/4 (so
  netmasks such as 255.255.255.0 and the broadcast address survive), ``::``,
  ``::1``, fe80:: addresses with a small interface id, and ff:ff:ff:ff:ff:ff.

Frames are rewritten byte-wise (Ethernet, VLAN tags, Linux cooked headers, ARP,
IPv4, IPv6, ICMP/ICMPv6 including the packet quoted in an error, NDP, DHCP,
STP BPDUs, and any other place the original bytes occur), then every checksum
that covers a changed byte (IPv4 header, ICMP, ICMPv6, TCP, UDP, also inside
quoted packets) is corrected incrementally (RFC 1624), which works on frames cut
short by the snap length and keeps an offloaded, not-yet-computed checksum
exactly as wrong as it was. Frames of a link type not listed in
:mod:`vnetdoctor.probes.frame_layout` still get every known address's bytes replaced,
but their checksums are left as they are.

Names are renamed too, consistently, by kind (sos clean does the same for host
names): host names (this machine's, the session's recorded ``hostname``, hosts
in libvirt URIs, DHCP lease host names) → ``host-a``; libvirt domains →
``vm-a``; libvirt networks → ``net-a``; network namespaces → ``ns-a`` (so
``netns:vnd-guest`` → ``netns:ns-a``); interfaces keep the letters they start
with, which say what they are (``vnet0`` → ``vnet-a``, ``br0`` → ``br-a``,
``eth0`` → ``eth-a``, ``virbr0`` → ``virbr-a``; a name with no leading letters
→ ``if-a``). Names are learnt from the fields that hold them (a LinkRow's
``name``, a route's ``dev``, a vantage ``netns:NAME``, ``ip netns exec NAME``…)
and then replaced as whole tokens in every string, fix argv lists included.
Names that identify nothing (``lo``, ``default``, ``local``, ``localhost``…) are kept.

Not renamed (say so wherever a redacted export is shown): DNS names, libvirt
UUIDs, and names that occur only in free text. An address that occurs *only*
inside a frame payload this module does not parse (a DNS answer, an application
protocol) is never learnt, so it is neither renamed nor checked.

The final check (:func:`find_leaks`) searches the output, NFKC-normalised (so
full-width ``１９８．１８．０．１１`` counts), for every original value in every
spelling: dotted IPv4 with or without zero padding (``198.018.000.011``),
embedded in a word (``host198.18.0.11``), as an integer (``3323068427``) and as
hex in either byte order; IPv6 in any text form or as hex; MACs with colons,
dashes, Cisco dots (``5254.00ab.cdef``) or no separator; and every original
name. An export in which one survived is refused.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import socket
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.frame_layout import fix_checksum, parse_frame


class RedactionError(UsageError):
    """Redaction could not be made complete; nothing is written. One line."""


# -- recognising addresses in text ---------------------------------------------

_MAC_RE = (
    r"(?<![0-9A-Za-z:])(?P<mac>[0-9A-Fa-f]{2}(?P<sep>[:-])[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){4})"
    r"(?![0-9A-Za-z:])"
)
_V6_RE = (
    r"(?<![0-9A-Za-z:.])(?P<v6>(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,}"
    r"(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})?)(?![0-9A-Za-z:]|\.\d)"
)
# Letters may touch an IPv4 address (``host198.18.0.11``, ``v198.18.0.1``): it is renamed
# there too. Octets may be zero-padded (``198.018.000.011``): read as decimal.
_V4_RE = r"(?<![0-9.])(?P<v4>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![0-9]|\.\d)"
ADDRESS_RE = re.compile(f"{_MAC_RE}|{_V6_RE}|{_V4_RE}")
_HEXBLOB_RE = re.compile(r"^(?:[0-9A-Fa-f]{2}){8,}$")

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


def _v4_int(text: str) -> int:
    """A dotted IPv4 address as an int; octets may be zero-padded (decimal, as people mean it)."""
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise ValueError(f"not an IPv4 address: {text!r}")
    return int.from_bytes(bytes(int(p) for p in parts), "big")


# Runs of full-width digits, hex letters, dots, colons and dashes (１９８．１８．０．１１):
# spelled back in ASCII before renaming, so that they are renamed like the usual spelling.
_FULLWIDTH_RUN = re.compile("[\uff10-\uff19\uff21-\uff26\uff41-\uff46\uff0e\uff1a\uff0d.:-]+")
_EXTRA_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": "."})


def _ascii_fullwidth(text: str) -> str:
    def norm(m: re.Match[str]) -> str:
        run = m.group(0)
        if not any("\uff10" <= c <= "\uff19" for c in run):
            return run  # a lone full-width colon is Chinese punctuation, not an address
        return unicodedata.normalize("NFKC", run)

    return _FULLWIDTH_RUN.sub(norm, text)


def normalise_for_check(text: str) -> str:
    """What the leak check reads: NFKC (full-width digits and dots become ASCII), odd dots too."""
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_DOTS)


# -- names ------------------------------------------------------------------------

NAME_KINDS = ("host", "domain", "network", "netns", "iface")
_NAME_PREFIX = {"host": "host", "domain": "vm", "network": "net", "netns": "ns"}
# Names that identify nothing and are words of the report itself: never renamed.
KEPT_NAMES = frozenset(
    {"lo", "local", "localhost", "localhost.localdomain", "default", "none", "any", "all",
     "host", "guest", "bridge", "system", "session"}
)
# Upper-case words that stand for a name in the tool's own help text ("--guest
# libvirt:DOMAIN"): a placeholder, not a name seen on the system.
PLACEHOLDER_WORDS = frozenset({"DOMAIN", "NAME", "URI", "NETWORK", "VANTAGE", "NS", "DEV", "IFACE"})
_NAME_CHARS = "A-Za-z0-9_-"  # a name token is bounded by anything else (. : / @ space …)
_VANTAGE_RE = re.compile(r"(?<![A-Za-z0-9_-])(?P<kind>netns|libvirt):(?P<name>[A-Za-z0-9_.+-]+)"
                         r"(?:@(?P<uri>[^\s'\"`,;)\]]+))?")
_NETNS_CMD_RE = re.compile(r"\bip\s+(?:netns\s+exec|-n|-netns)\s+(?P<name>[A-Za-z0-9_.-]+)")
_URI_HOST_RE = re.compile(r"://(?:[^@/\s]*@)?(?P<host>[A-Za-z0-9_.-]+)")
# Which field of which row holds what kind of name (rows are dicts with "_type" in JSON).
_ROW_NAMES: dict[str, dict[str, str]] = {
    "LinkRow": {"name": "iface", "master": "iface"},
    "AddrRow": {"ifname": "iface"},
    "RouteRow": {"dev": "iface"},
    "RouteLookupRow": {"dev": "iface"},
    "NeighRow": {"ifname": "iface"},
    "BridgeRow": {"name": "iface"},
    "BridgePortRow": {"bridge": "iface", "port": "iface"},
    "FdbRow": {"bridge": "iface", "port": "iface"},
    "BridgeVlanRow": {"bridge": "iface", "port": "iface"},
    "PacketRow": {"iface": "iface"},
    "ArpReplyRow": {"iface": "iface"},
    "DomainRow": {"name": "domain"},
    "DomainIfaceRow": {"domain": "domain", "target": "iface", "bridge": "iface",
                       "network": "network"},
    "NetworkRow": {"name": "network", "bridge": "iface", "forward_dev": "iface"},
    "LeaseRow": {"network": "network", "hostname": "host", "iface": "iface"},
    "IfStatRow": {"domain": "domain", "target": "iface"},
    "PathRow": {"domain": "domain", "tap": "iface", "bridge": "iface", "network": "network"},
}


def _letters(n: int) -> str:
    """0 → a, 25 → z, 26 → aa: short, readable suffixes."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


class NameMap:
    """Host, domain, network, namespace and interface names → pseudonyms, one mapping per export."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}  # original → kind (the first kind it was learnt as wins)
        self.mapping: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._re: re.Pattern[str] | None = None
        self._host_re: re.Pattern[str] | None = None
        self._dirty = False

    def add(self, kind: str, name: str) -> None:
        name = (name or "").strip()
        if (
            len(name) < 2
            or len(name) > 255
            or name.lower() in KEPT_NAMES
            or name in PLACEHOLDER_WORDS
            or name in self.seen
            # Any printable name (a guest may call its NIC 'x;date>PWN'), but no whitespace:
            # a token with a space is a sentence, not a name.
            or not name.isprintable()
            or any(c.isspace() for c in name)
            or re.fullmatch(r"[0-9.:]+", name)  # an address, not a name (addresses have their own map)
        ):
            return
        self.seen[name] = kind
        self._dirty = True
        if kind == "host" and "." in name:
            self.add("host", name.split(".", 1)[0])  # the short name of an FQDN leaks it too

    def _pseudonym(self, kind: str, name: str) -> str:
        if kind == "iface":
            prefix = re.match(r"[A-Za-z]*", name).group(0).lower() or "if"  # type: ignore[union-attr]
        else:
            prefix = _NAME_PREFIX[kind]
        while True:
            n = self._counters.get(prefix, 0)
            self._counters[prefix] = n + 1
            cand = f"{prefix}-{_letters(n)}"
            if cand not in self.seen and cand not in self.mapping.values():
                return cand

    def allocate(self) -> None:
        if not self._dirty:
            return
        for name, kind in self.seen.items():
            if name not in self.mapping:
                if kind == "host" and "." not in name:
                    fqdn = next((f for f in self.mapping if f.split(".", 1)[0] == name), None)
                    if fqdn is not None:
                        self.mapping[name] = self.mapping[fqdn]
                        continue
                self.mapping[name] = self._pseudonym(kind, name)
        # Host names are case-insensitive (DNS), but a short one ("vm") would also hit the
        # word "VM" of the report: those are matched as spelled.
        plain = sorted((n for n, k in self.seen.items() if not _fold(k, n)), key=len, reverse=True)
        hosts = sorted((n for n, k in self.seen.items() if _fold(k, n)), key=len, reverse=True)
        self._re = _token_re(plain, ignore_case=False) if plain else None
        self._host_re = _token_re(hosts, ignore_case=True) if hosts else None
        self._dirty = False

    def apply(self, text: str) -> str:
        self.allocate()
        if self._re is not None:
            text = self._re.sub(lambda m: self.mapping[m.group(0)], text)
        if self._host_re is not None:
            lower = {k.lower(): v for k, v in self.mapping.items() if _fold(self.seen.get(k, ""), k)}
            text = self._host_re.sub(lambda m: lower[m.group(0).lower()], text)
        return text

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for k in self.seen.values() if k == kind) for kind in NAME_KINDS}


def _fold(kind: str, name: str) -> bool:
    """Whether ``name`` is matched case-insensitively: host names of 4 characters or more."""
    return kind == "host" and len(name) >= 4


def _token_re(names: list[str], *, ignore_case: bool) -> re.Pattern[str]:
    alts = "|".join(re.escape(n) for n in names)
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(f"(?<![{_NAME_CHARS}])(?:{alts})(?![{_NAME_CHARS}])", flags)


def machine_hostnames() -> list[str]:
    """This machine's host name: an export made here must not name it.

    ``gethostname`` only (its short form is added by :class:`NameMap`); not
    ``getfqdn``, which asks DNS and may hang or send a query from an export.
    """
    name = socket.gethostname()
    return [name] if name else []


# -- the leak check ---------------------------------------------------------------


def _v4_spellings(a: int) -> list[str]:
    """Regexes for one IPv4 address: dotted (zero-padded or not, touching letters), integer."""
    octets = a.to_bytes(4, "big")
    dotted = r"\.".join("0*" + str(o) if o else "0+" for o in octets)
    return [f"(?<![0-9]){dotted}(?![0-9])", f"(?<![0-9]){a}(?![0-9])"]


def _mac_spelling(m: bytes) -> str:
    """One regex for a MAC with colons, dashes, Cisco dots, or no separator (any case)."""
    parts = [f"0?{b:x}" if b < 16 else f"{b:02x}" for b in m]
    body = "[:.-]?".join(parts)
    return f"(?<![0-9a-f]){body}(?![0-9a-f])"


def find_leaks(
    text: str,
    *,
    ipv4: Iterable[int] = (),
    ipv6: Iterable[int] = (),
    macs: Iterable[bytes] = (),
    names: Iterable[str] | Mapping[str, str] = (),
) -> list[str]:
    """Every original value still in ``text``, in any spelling (see the module's docstring).

    Deliberately broader than what :class:`Redactor` renames: a false alarm
    refuses an export (the operator can report it), a miss publishes an address.
    ``names`` given as a mapping name → kind are matched as the renamer matches
    them: only host names fold case (DNS does; libvirt, namespace and interface
    names are case-sensitive, so ``DOMAIN`` is not the word "domain").
    """
    kinds: Mapping[str, str] | None = names if isinstance(names, Mapping) else None
    norm = normalise_for_check(text)
    lower = norm.lower()
    found: list[str] = []
    for a in ipv4:
        for pattern in _v4_spellings(a):
            found += [m.group(0) for m in re.finditer(pattern, norm)]
        packed = a.to_bytes(4, "big")
        for h in (packed.hex(), packed[::-1].hex()):
            found += [m.group(0) for m in re.finditer(f"(?<![0-9a-f]){h}(?![0-9a-f])", lower)]
    wanted6 = set(ipv6)
    if wanted6:
        for m in re.finditer(_V6_RE, norm):
            try:
                if int(ipaddress.IPv6Address(m.group("v6"))) in wanted6:
                    found.append(m.group(0))
            except ValueError:
                continue
        for a in wanted6:
            h = a.to_bytes(16, "big").hex()
            found += [m.group(0) for m in re.finditer(f"(?<![0-9a-f]){h}(?![0-9a-f])", lower)]
    for m in macs:
        found += [x.group(0) for x in re.finditer(_mac_spelling(m), lower)]
    for name in names:
        # Case-insensitive where a name is long enough not to be a word of the report itself.
        fold = _fold(kinds[name], name) if kinds is not None else len(name) >= 4
        pattern = _token_re([name], ignore_case=fold)
        found += [x.group(0) for x in pattern.finditer(norm)]
    return found


class Redactor:
    """Collect every address of one export first, then rename them all the same way.

    Two phases because a pseudonym must never be an address that occurs somewhere
    in the original (that would make the export lie): ``scan_*`` everything,
    then ``text``/``json``/``frame`` (allocation happens at the first use).
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
        self.names = NameMap()

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
            self._add_mac(_mac_of_eui64(iid))
        self._invalidate()

    def _add_mac(self, m: bytes) -> None:
        if not self._keep_mac(m):
            self._seen_mac.setdefault(bytes(m))
            self._invalidate()

    def _invalidate(self) -> None:
        if self._allocated:
            self._allocated = False  # new originals after use: allocate the newcomers next time

    def scan_text(self, text: str) -> None:
        text = _ascii_fullwidth(text)
        for m in ADDRESS_RE.finditer(text):
            self._collect_match(m)
        self._scan_names(text)
        # In-place hex blobs (not frames) may hold addresses too; only their bytes can tell.

    def add_name(self, kind: str, name: str) -> None:
        """Rename ``name`` (a ``host``, ``domain``, ``network``, ``netns`` or ``iface``) everywhere."""
        if kind not in NAME_KINDS:
            raise ValueError(f"unknown name kind {kind!r}")
        self.names.add(kind, name)
        self._invalidate()

    def _scan_names(self, text: str) -> None:
        """Names that free text spells with their kind: vantages, ``ip netns exec NAME``, URIs."""
        for m in _VANTAGE_RE.finditer(text):
            self.add_name("netns" if m.group("kind") == "netns" else "domain", m.group("name"))
            uri = m.group("uri")
            if uri:
                h = _URI_HOST_RE.search(uri)
                if h:
                    self.add_name("host", h.group("host"))
        for m in _NETNS_CMD_RE.finditer(text):
            self.add_name("netns", m.group("name"))
        for m in re.finditer(r"qemu\+\w+://[^\s'\"]+", text):
            h = _URI_HOST_RE.search(m.group(0))
            if h:
                self.add_name("host", h.group("host"))

    def _collect_match(self, m: re.Match[str]) -> None:
        if m.group("mac"):
            self._add_mac(bytes.fromhex(re.sub("[:-]", "", m.group("mac"))))
        elif m.group("v6"):
            try:
                self._add_v6(int(ipaddress.IPv6Address(m.group("v6"))))
            except ValueError:
                pass
        elif m.group("v4"):
            try:
                self._add_v4(_v4_int(m.group("v4")))
            except ValueError:
                pass

    def scan_frame(self, data: bytes, linktype: int) -> None:
        parsed = parse_frame(data, linktype)
        for off in parsed.macs:
            self._add_mac(bytes(data[off : off + 6]))
        for off in parsed.v4:
            self._add_v4(int.from_bytes(data[off : off + 4], "big"))
        for off in parsed.v6:
            self._add_v6(int.from_bytes(data[off : off + 16], "big"))

    def scan_json(self, obj: Any) -> None:
        """Collect from every string of a JSON-like value, and from the frames of PacketRows."""
        if isinstance(obj, dict):
            for key, kind in _ROW_NAMES.get(str(obj.get("_type", "")), {}).items():
                if isinstance(obj.get(key), str):
                    self.add_name(kind, obj[key])
            if obj.get("_type") == "DomainIfaceRow" and obj.get("type") == "network":
                self.add_name("network", str(obj.get("source", "")))
            elif obj.get("_type") == "DomainIfaceRow":
                self.add_name("iface", str(obj.get("source", "")))
            if isinstance(obj.get("hostname"), str):  # the session's recorded host name
                self.add_name("host", obj["hostname"])
            if obj.get("_type") == "PacketRow":
                try:
                    self.scan_frame(
                        bytes.fromhex(str(obj.get("data_hex", ""))), int(obj.get("linktype", 1))
                    )
                except ValueError:
                    pass
            for key, value in obj.items():
                self.scan_text(str(key))
                self.scan_json(value)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                self.scan_json(item)
            if obj and all(isinstance(item, str) for item in obj):
                self._scan_names(" ".join(obj))  # an argv: ["ip", "netns", "exec", NAME, …]
        elif isinstance(obj, str):
            self.scan_text(obj)

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
                    self._iid[iid] = _eui64_of_mac(
                        self._mac.get(_mac_of_eui64(iid), _mac_of_eui64(iid))
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
        a = _v4_int(text)
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

    # -- applying ------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Rename every name and address in ``text`` (dotted, colon, hex, Cisco and integer spellings)."""
        self._allocate()
        text = self.names.apply(_ascii_fullwidth(text))

        def sub(m: re.Match[str]) -> str:
            try:
                if m.group("mac"):
                    return self.map_mac(m.group("mac"))
                if m.group("v6"):
                    return self.map_v6(m.group("v6"))
                return self.map_v4(m.group("v4"))
            except ValueError:
                return m.group(0)

        out = ADDRESS_RE.sub(sub, text)
        self._allocate()
        if self._hex_re is not None:
            out = self._hex_re.sub(
                lambda m: _same_case(m.group(0), self._hex_map[m.group(0).lower()]), out
            )
        if self._odd_re is not None:
            out = self._odd_re.sub(
                lambda m: _same_case(m.group(0), self._odd_map[m.group(0).lower()]), out
            )
        return out

    def blob(self, data: bytes) -> bytes:
        """Replace original address bytes anywhere in ``data`` (no structure assumed)."""
        self._allocate()
        if self._bytes_re is None:
            return data
        return self._bytes_re.sub(lambda m: self._bytes_map[m.group(0)], data)

    def frame(self, data: bytes, linktype: int) -> bytes:
        """A frame with every original address renamed and its checksums made right again."""
        self._allocate()
        parsed = parse_frame(data, linktype)
        buf = bytearray(data)
        for off in parsed.macs:
            buf[off : off + 6] = self._mac.get(bytes(buf[off : off + 6]), bytes(buf[off : off + 6]))
        for off in parsed.v4:
            a = int.from_bytes(buf[off : off + 4], "big")
            buf[off : off + 4] = self._v4.get(a, a).to_bytes(4, "big")
        for off in parsed.v6:
            a = int.from_bytes(buf[off : off + 16], "big")
            buf[off : off + 16] = self._v6.get(a, a).to_bytes(16, "big")
        buf = bytearray(self.blob(bytes(buf)))  # addresses in payloads (DNS, BPDUs, …)
        for scope in sorted(parsed.scopes, key=lambda s: -s.depth):
            fix_checksum(data, buf, scope)
        return bytes(buf)

    def json(self, obj: Any) -> Any:
        """A redacted copy of a JSON-like value: strings renamed, PacketRow frames rewritten."""
        if isinstance(obj, dict):
            out = {}
            for key, value in obj.items():
                if obj.get("_type") == "PacketRow" and key == "data_hex" and isinstance(value, str):
                    try:
                        frame = bytes.fromhex(value)
                    except ValueError:
                        out[key] = self.text(value)
                        continue
                    out[key] = self.frame(frame, int(obj.get("linktype", 1))).hex()
                    continue
                out[self.text(key) if isinstance(key, str) else key] = self.json(value)
            _rejoin_argv(obj, out)
            return out
        if isinstance(obj, list):
            return [self.json(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.json(v) for v in obj)
        if isinstance(obj, str):
            if _HEXBLOB_RE.match(obj):
                return _same_case(obj, self.blob(bytes.fromhex(obj)).hex())
            return self.text(obj)
        return obj

    # -- checking ------------------------------------------------------------------

    def originals(self) -> list[str]:
        """Every address and name that was renamed, as text."""
        out = [str(ipaddress.IPv4Address(a)) for a in self._seen_v4]
        out += [str(ipaddress.IPv6Address(a)) for a in self._seen_v6]
        out += [":".join(f"{b:02x}" for b in m) for m in self._seen_mac]
        return out + list(self.names.seen)

    def leaks_in_text(self, text: str) -> list[str]:
        """Original addresses and names still in ``text``, in any spelling (:func:`find_leaks`)."""
        self._allocate()
        self.names.allocate()
        return find_leaks(
            text,
            ipv4=self._seen_v4,
            ipv6=self._seen_v6,
            macs=self._seen_mac,
            names=self.names.seen,
        )

    def leaks_in_bytes(self, data: bytes) -> list[str]:
        """Original addresses in ``data``, and original names of 5 characters or more.

        A frame cannot have a name renamed (lengths would change), and a short name
        matches random payload bytes; a long host, domain, network or namespace name
        (a host name in a DHCP option) is a real leak, so it refuses the export.
        Interface names are left out: an LLDP frame naming ``vnet0`` says nothing
        about whose machine this is.
        """
        self._allocate()
        found = [m.group(0).hex() for m in self._bytes_re.finditer(data)] if self._bytes_re else []
        low = data.lower()
        for name, kind in self.names.seen.items():
            if kind != "iface" and len(name) >= 5 and name.lower().encode() in low:
                found.append(name)
        return found

    def name_counts(self) -> dict[str, int]:
        """How many names of each kind were renamed (host, domain, network, netns, iface)."""
        return self.names.counts()

    def counts(self) -> dict[str, int]:
        return {"ipv4": len(self._seen_v4), "ipv6": len(self._seen_v6), "mac": len(self._seen_mac)}


# A fix is an argv plus its display string, ``shlex.join(argv)``. Renamed separately the
# two could disagree on quoting ('x;date>PWN' is quoted, its pseudonym x-a is not), and
# the record would no longer load: the display string is rebuilt from the renamed argv.
_ARGV_PAIRS = (("argv", "command"), ("undo_argv", "undo"))


def _rejoin_argv(original: dict[Any, Any], out: dict[Any, Any]) -> None:
    for argv_key, text_key in _ARGV_PAIRS:
        argv, text = original.get(argv_key), original.get(text_key)
        if (
            isinstance(argv, list)
            and argv
            and all(isinstance(a, str) for a in argv)
            and isinstance(text, str)
            and text == shlex.join(argv)
        ):
            out[text_key] = shlex.join(out[argv_key])


def _same_case(original: str, new: str) -> str:
    return new.upper() if original.isupper() else new


def _mac_of_eui64(iid: int) -> bytes:
    b = iid.to_bytes(8, "big")
    return bytes([b[0] ^ 0x02, b[1], b[2], b[5], b[6], b[7]])


def _eui64_of_mac(mac: bytes) -> int:
    return int.from_bytes(
        bytes([mac[0] ^ 0x02, mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]]), "big"
    )
