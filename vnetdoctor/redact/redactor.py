"""The redactor of one export: finds every address and name in text, JSON records and
frames, then renames them all the same way and checks nothing original survived."""

from __future__ import annotations

import ipaddress
import re
import shlex
from typing import Any

from vnetdoctor.probes.frame_layout import fix_checksum, parse_frame

from .addresses import ADDRESS_RE, HEXBLOB_RE, ascii_fullwidth, same_case, v4_int
from .leaks import find_leaks
from .names import NETNS_CMD_RE, ROW_NAMES, URI_HOST_RE, VANTAGE_RE, NAME_KINDS, NameMap
from .pseudonyms import AddressMap


class Redactor(AddressMap):
    """Collect every address of one export first, then rename them all the same way.

    Two phases because a pseudonym must never be an address that occurs somewhere
    in the original (that would make the export lie): ``scan_*`` everything,
    then ``text``/``json``/``frame`` (allocation happens at the first use).
    """

    def __init__(self) -> None:
        super().__init__()
        self.names = NameMap()

    # -- collecting ----------------------------------------------------------------

    def scan_text(self, text: str) -> None:
        text = ascii_fullwidth(text)
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
        for m in VANTAGE_RE.finditer(text):
            self.add_name("netns" if m.group("kind") == "netns" else "domain", m.group("name"))
            uri = m.group("uri")
            if uri:
                h = URI_HOST_RE.search(uri)
                if h:
                    self.add_name("host", h.group("host"))
        for m in NETNS_CMD_RE.finditer(text):
            self.add_name("netns", m.group("name"))
        for m in re.finditer(r"qemu\+\w+://[^\s'\"]+", text):
            h = URI_HOST_RE.search(m.group(0))
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
                self._add_v4(v4_int(m.group("v4")))
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
            for key, kind in ROW_NAMES.get(str(obj.get("_type", "")), {}).items():
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

    # -- applying ------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Rename every name and address in ``text`` (dotted, colon, hex, Cisco and integer spellings)."""
        self._allocate()
        text = self.names.apply(ascii_fullwidth(text))

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
                lambda m: same_case(m.group(0), self._hex_map[m.group(0).lower()]), out
            )
        if self._odd_re is not None:
            out = self._odd_re.sub(
                lambda m: same_case(m.group(0), self._odd_map[m.group(0).lower()]), out
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
            if HEXBLOB_RE.match(obj):
                return same_case(obj, self.blob(bytes.fromhex(obj)).hex())
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
