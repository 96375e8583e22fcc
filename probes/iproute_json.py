"""Parse iproute2's JSON (``ip -j``, ``bridge -j``) into the same rows netlink gives.

A libvirt guest has no namespace on this host: its probes run ``ip -j ...``
through the qemu-guest-agent runner. These parsers are pure functions of that
output, so a guest's interfaces, addresses, routes and neighbours land in the
very rows the host's netlink probes produce and the same rules apply to both.

They are written against ``ip -d`` (details) output: without ``-d`` iproute2
leaves out defaults such as ``type unicast`` or ``protocol boot``, which would
make a guest's rows differ from the host's for no reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .base import Skip
from .nsexec import CommandResult, run_command
from .rows import AddrRow, BridgeVlanRow, LinkRow, NeighRow, RouteLookupRow, RouteRow
from .vantage import Vantage

# The argv each guest-side probe runs; the tests record exactly these.
IP_LINK = ("ip", "-j", "-d", "-s", "link", "show")
IP_ADDR = ("ip", "-j", "addr", "show")
IP4_ROUTE = ("ip", "-4", "-j", "-d", "route", "show", "table", "all")
IP6_ROUTE = ("ip", "-6", "-j", "-d", "route", "show", "table", "all")
IP_NEIGH = ("ip", "-j", "neigh", "show", "nud", "all")
BRIDGE_VLAN = ("bridge", "-j", "vlan", "show")

# `ip addr`'s flag keys, in the order the netlink path lists them.
_ADDR_FLAG_ORDER = (
    "secondary",
    "temporary",
    "nodad",
    "optimistic",
    "dadfailed",
    "home",
    "deprecated",
    "tentative",
    "mngtmpaddr",
    "noprefixroute",
    "autojoin",
    "stable-privacy",
    "dynamic",
)
_NUD_ORDER = (
    "PERMANENT",
    "NOARP",
    "REACHABLE",
    "STALE",
    "DELAY",
    "PROBE",
    "FAILED",
    "INCOMPLETE",
)
# What `ip route get` prints on stderr for each route type the FIB refuses.
_LOOKUP_ERRORS = {
    "Network is unreachable": "unreachable",
    "No route to host": "unreachable",
    "Invalid argument": "blackhole",
    "Permission denied": "prohibit",
}


def load(text: str) -> list[dict[str, Any]]:
    """iproute2 JSON output as a list (it prints nothing at all for an empty table)."""
    text = text.strip()
    if not text:
        return []
    data = json.loads(text)
    if not isinstance(data, list):
        # a ValueError like json's own: the output is bad, not the call
        raise ValueError("iproute2 JSON output is not a list")  # noqa: TRY004
    return [item for item in data if isinstance(item, dict)]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def links_from_ip(items: Iterable[Mapping[str, Any]]) -> list[LinkRow]:
    """LinkRows from ``ip -j -d -s link show``; the driver is the kind (no ethtool here)."""
    items = list(items)
    by_name = {str(item.get("ifname", "")): _int(item.get("ifindex")) for item in items}
    rows = []
    for item in items:
        flags = set(item.get("flags") or ())
        linkinfo = item.get("linkinfo") or {}
        kind = str(linkinfo.get("info_kind", ""))
        if not kind and item.get("link_type") == "loopback":
            kind = "loopback"
        veth = kind == "veth"
        peer = 0
        if veth:
            if "link_index" in item:
                peer = _int(item["link_index"])
            elif "link" in item:
                link = str(item["link"])
                peer = by_name.get(link, _int(link[2:]) if link.startswith("if") else 0)
        stats = item.get("stats64") or item.get("stats") or {}
        rx = stats.get("rx") or {}
        tx = stats.get("tx") or {}
        name = str(item.get("ifname", ""))
        rows.append(
            LinkRow(
                ifindex=_int(item.get("ifindex")),
                name=name.split("@", 1)[0],
                kind=kind,
                operstate=str(item.get("operstate", "UNKNOWN")),
                admin_up="UP" in flags,
                carrier="LOWER_UP" in flags,
                mtu=_int(item.get("mtu")),
                mac=str(item.get("address", "")) if item.get("link_type") != "none" else "",
                master=str(item.get("master", "")),
                driver=kind,
                noarp="NOARP" in flags,
                peer_ifindex=peer,
                peer_netnsid=_int(item.get("link_netnsid"), -1)
                if veth and "link_netnsid" in item
                else -1,
                rx_packets=_int(rx.get("packets")),
                tx_packets=_int(tx.get("packets")),
                rx_errors=_int(rx.get("errors")),
                tx_errors=_int(tx.get("errors")),
                rx_dropped=_int(rx.get("dropped")),
                tx_dropped=_int(tx.get("dropped")),
            )
        )
    return rows


def addrs_from_ip(items: Iterable[Mapping[str, Any]]) -> list[AddrRow]:
    """AddrRows from ``ip -j addr show``."""
    rows = []
    for link in items:
        ifname = str(link.get("ifname", "")).split("@", 1)[0]
        for info in link.get("addr_info") or ():
            family = str(info.get("family", ""))
            if family not in ("inet", "inet6") or "local" not in info:
                continue
            rows.append(
                AddrRow(
                    ifname=ifname,
                    family=family,
                    address=str(info["local"]),
                    prefixlen=_int(info.get("prefixlen")),
                    scope=str(info.get("scope", "global")),
                    flags=tuple(flag for flag in _ADDR_FLAG_ORDER if info.get(flag) is True),
                )
            )
    return rows


def _route_scope(text: str) -> str:
    # iproute2 calls RT_SCOPE_UNIVERSE "global"; the rows use the kernel's word.
    return "universe" if text in ("", "global") else text


def routes_from_ip(items: Iterable[Mapping[str, Any]], family: str) -> list[RouteRow]:
    """RouteRows from ``ip -4|-6 -j -d route show table all`` (one family per call)."""
    rows = []
    for item in items:
        hops = item.get("nexthops")
        if hops:
            paths = [(str(h.get("dev", "")), _gateway(h)) for h in hops]
        else:
            paths = [(str(item.get("dev", "")), _gateway(item))]
        for dev, gateway in paths:
            rows.append(
                RouteRow(
                    dst=str(item.get("dst", "default")),
                    table=str(item.get("table", "main")),
                    type=str(item.get("type", "unicast")),
                    gateway=gateway,
                    dev=dev,
                    prefsrc=str(item.get("prefsrc", "")),
                    protocol=str(item.get("protocol", "boot")),
                    scope=_route_scope(str(item.get("scope", ""))),
                    metric=_int(item.get("metric")),
                    family=family,
                )
            )
    return rows


def _gateway(item: Mapping[str, Any]) -> str:
    if "gateway" in item:
        return str(item["gateway"])
    via = item.get("via")
    if isinstance(via, Mapping):
        return str(via.get("host", ""))
    return ""


def route_lookup_from_ip(dst: str, result: CommandResult) -> RouteLookupRow:
    """The RouteLookupRow for ``ip -j -d route get DST``: its answer, or its refusal."""
    if not result.ok:
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        message = message.removeprefix("RTNETLINK answers: ").strip()
        kind = _LOOKUP_ERRORS.get(message)
        if kind is None:
            raise RuntimeError(
                f"ip route get {dst} failed: {message or f'exit {result.returncode}'}"
            )
        return RouteLookupRow(dst=dst, type=kind, error=message)
    items = load(result.stdout)
    if not items:
        return RouteLookupRow(dst=dst, type="error", error="ip route get printed no route")
    item = items[0]
    return RouteLookupRow(
        dst=dst,
        type=str(item.get("type", "unicast")),
        dev=str(item.get("dev", "")),
        gateway=_gateway(item),
        prefsrc=str(item.get("prefsrc") or item.get("from") or ""),
        table=str(item.get("table", "main")),
    )


def neighbours_from_ip(items: Iterable[Mapping[str, Any]]) -> list[NeighRow]:
    """NeighRows from ``ip -j neigh show nud all``."""
    rows = []
    for item in items:
        dst = str(item.get("dst", ""))
        if not dst:
            continue
        states = set(item.get("state") or ())
        state = next((name for name in _NUD_ORDER if name in states), "NONE")
        rows.append(
            NeighRow(
                ifname=str(item.get("dev", "")),
                address=dst,
                lladdr=str(item.get("lladdr", "")),
                state=state,
                family="inet6" if ":" in dst else "inet",
            )
        )
    return rows


def bridge_vlans_from_bridge_json(
    items: Iterable[Mapping[str, Any]], masters: Mapping[str, str]
) -> list[BridgeVlanRow]:
    """BridgeVlanRows from ``bridge -j vlan show``; ``masters`` maps a port to its bridge.

    iproute2 prints a range as ``{"vlan": 10, "vlanEnd": 20}``; a port that is
    not in ``masters`` is taken to be a bridge listing its own VLANs.
    """
    rows = []
    for item in items:
        port = str(item.get("ifname", ""))
        bridge = masters.get(port, port)
        for vlan in item.get("vlans") or ():
            flags = set(vlan.get("flags") or ())
            first = _int(vlan.get("vlan"))
            last = _int(vlan.get("vlanEnd"), first)
            for vid in range(first, last + 1):
                rows.append(
                    BridgeVlanRow(
                        bridge=bridge,
                        port=port,
                        vid=vid,
                        pvid="PVID" in flags,
                        untagged="Egress Untagged" in flags,
                    )
                )
    return rows


def run_json(
    vantage: Vantage, argv: Sequence[str], timeout: float = 10.0
) -> tuple[list[dict[str, Any]], str]:
    """Run an iproute2 JSON command in the vantage: (parsed items, the raw text).

    No command runner (or no ``ip`` in the guest) is a reason to skip, not an error.
    """
    result = run_command(vantage, argv, timeout=timeout)
    if result.returncode == 127:
        raise Skip(result.stderr.strip() or f"{argv[0]}: command not found")
    if not result.ok:
        detail = (
            result.stderr.strip().splitlines()[-1]
            if result.stderr.strip()
            else f"exit {result.returncode}"
        )
        raise RuntimeError(f"{' '.join(argv)}: {detail}")
    return load(result.stdout), result.stdout


RAW_LIMIT = 64 * 1024


def clip(text: str, limit: int = RAW_LIMIT) -> str:
    """Raw evidence is kept, but not without bound: a 100,000-route table is not evidence."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters not kept]"
