"""Host, domain, network, namespace and interface names: where they are learnt from, and
their pseudonyms (``host-a``, ``vm-a``, ``net-a``, ``ns-a``, ``vnet-a``)."""

from __future__ import annotations

import re
import socket

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
VANTAGE_RE = re.compile(r"(?<![A-Za-z0-9_-])(?P<kind>netns|libvirt):(?P<name>[A-Za-z0-9_.+-]+)"
                         r"(?:@(?P<uri>[^\s'\"`,;)\]]+))?")
NETNS_CMD_RE = re.compile(r"\bip\s+(?:netns\s+exec|-n|-netns)\s+(?P<name>[A-Za-z0-9_.-]+)")
URI_HOST_RE = re.compile(r"://(?:[^@/\s]*@)?(?P<host>[A-Za-z0-9_.-]+)")
# Which field of which row holds what kind of name (rows are dicts with "_type" in JSON).
ROW_NAMES: dict[str, dict[str, str]] = {
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
        plain = sorted((n for n, k in self.seen.items() if not folds_case(k, n)), key=len, reverse=True)
        hosts = sorted((n for n, k in self.seen.items() if folds_case(k, n)), key=len, reverse=True)
        self._re = token_re(plain, ignore_case=False) if plain else None
        self._host_re = token_re(hosts, ignore_case=True) if hosts else None
        self._dirty = False

    def apply(self, text: str) -> str:
        self.allocate()
        if self._re is not None:
            text = self._re.sub(lambda m: self.mapping[m.group(0)], text)
        if self._host_re is not None:
            lower = {k.lower(): v for k, v in self.mapping.items() if folds_case(self.seen.get(k, ""), k)}
            text = self._host_re.sub(lambda m: lower[m.group(0).lower()], text)
        return text

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for k in self.seen.values() if k == kind) for kind in NAME_KINDS}


def folds_case(kind: str, name: str) -> bool:
    """Whether ``name`` is matched case-insensitively: host names of 4 characters or more."""
    return kind == "host" and len(name) >= 4


def token_re(names: list[str], *, ignore_case: bool) -> re.Pattern[str]:
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
