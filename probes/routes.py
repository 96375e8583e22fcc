"""``route.list`` (every table, both families) and ``route.lookup`` (one destination).

``route.lookup`` is what matters most: it asks the kernel which route it would
really take for the target (RTM_GETROUTE for one address, like ``ip route get``),
which honours policy rules, metrics and prefixes without us re-implementing the
FIB. A refusal (no route, an unreachable or blackhole route) is the answer
``route.missing`` needs, so it comes back as a row, not as an error.

``route.list`` is the evidence behind it. Hosts with full BGP tables exist, so
the dump is decoded by the lean parser in :mod:`.netlink_decode`; the lookup is
pyroute2's ``route("get")``.
"""

from __future__ import annotations

import ipaddress

from .base import ProbeOutput, Skip, probe
from .guest_windows import windows_output
from .iproute_json import IP4_ROUTE, IP6_ROUTE, clip, route_lookup_from_ip, routes_from_ip, run_json
from .netlink_decode import decode_routes
from .netlink_query import ROUTES, interface_names, lean_dump, route_get
from .nsexec import call_in, run_command
from .rows import RouteLookupRow, RouteRow
from .vantage import Vantage

_SHOWN_IN_RAW = 200


def _routes_here() -> list[RouteRow]:
    return lean_dump(ROUTES, decode_routes, interface_names())  # every family, every table


def _route_line(r: RouteRow) -> str:
    parts = [r.type, r.dst] if r.type != "unicast" else [r.dst]
    if r.gateway:
        parts += ["via", r.gateway]
    if r.dev:
        parts += ["dev", r.dev]
    if r.table != "main":
        parts += ["table", r.table]
    parts += ["proto", r.protocol, "scope", r.scope]
    if r.prefsrc:
        parts += ["src", r.prefsrc]
    if r.metric:
        parts += ["metric", str(r.metric)]
    return " ".join(parts)


def _routes_raw(rows: list[RouteRow]) -> str:
    """The routes as `ip route` lines: all of them for a normal host, a sample for a BGP table."""
    main = [r for r in rows if r.table == "main"]
    shown = main[:_SHOWN_IN_RAW]
    text = "\n".join(_route_line(r) for r in shown)
    if len(rows) > len(shown):
        text += (
            f"\n... {len(rows)} routes in all ({len(main)} in table main), "
            f"first {len(shown)} of main shown"
        )
    return clip(text)


@probe(
    "route.list",
    layer="network",
    title="Routing tables (all tables, IPv4 and IPv6)",
    vantages=("local", "netns", "libvirt"),
)
def route_list(vantage: Vantage) -> ProbeOutput:
    if (windows := windows_output("route.list", vantage)) is not None:
        return windows
    if vantage.kind == "libvirt":
        rows: list[RouteRow] = []
        texts = []
        for argv, family in ((IP4_ROUTE, "inet"), (IP6_ROUTE, "inet6")):
            items, text = run_json(vantage, argv)
            rows += routes_from_ip(items, family)
            texts.append(text)
        return ProbeOutput(rows=tuple(rows), raw=clip("\n".join(texts)))
    rows = call_in(vantage, _routes_here)
    return ProbeOutput(rows=tuple(rows), raw=_routes_raw(rows))


def _lookup_line(r: RouteLookupRow) -> str:
    if r.error:
        return f"{r.dst}: {r.type} ({r.error})"
    via = f" via {r.gateway}" if r.gateway else ""
    src = f" src {r.prefsrc}" if r.prefsrc else ""
    return f"{r.type} {r.dst}{via} dev {r.dev} table {r.table}{src}"


@probe(
    "route.lookup",
    layer="network",
    title="Which route the kernel takes to one address",
    vantages=("local", "netns", "libvirt"),
)
def route_lookup(
    vantage: Vantage, dst: str = "", src: str | None = None, iif: str | None = None
) -> ProbeOutput:
    if not dst:
        raise ValueError("route.lookup needs dst=ADDRESS")
    dst = str(ipaddress.ip_address(dst))  # refuse anything that is not an address, before any I/O
    if (windows := windows_output("route.lookup", vantage, dst=dst)) is not None:
        return windows
    if vantage.kind == "libvirt":
        argv = ["ip", "-j", "-d", "route", "get", dst]
        if src:
            argv += ["from", str(ipaddress.ip_address(src))]
        if iif:
            argv += ["iif", iif]
        result = run_command(vantage, argv)
        if result.returncode == 127:
            raise Skip(result.stderr.strip() or "ip: command not found")
        row = route_lookup_from_ip(dst, result)
        return ProbeOutput(rows=(row,), raw=clip(result.stdout or result.stderr))
    row = call_in(vantage, route_get, dst, src, iif)
    return ProbeOutput(rows=(row,), raw=_lookup_line(row))
