"""A Windows guest through qemu-guest-agent: PowerShell's NetTCPIP/NetSecurity cmdlets into the same rows.

``guest-get-osinfo`` says "mswindows" (:func:`.guest_agent.is_windows`); the guest
then has no ``ip -j``, so the probes run ``powershell.exe`` through ``guest-exec``
with a fixed script of ours (no value from anywhere else goes into it) ending in
``| ConvertTo-Json``, and these parsers turn its JSON into the LinkRow, AddrRow,
RouteRow, RouteLookupRow and FirewallRow a Linux guest gives, so the same rules apply.

Windows PowerShell 5.1 writes enums as numbers (``AdminStatus: 1``), PowerShell 7
may write names; a single object comes out as an object, several as a list: both are
read. No Windows image exists on the machines this is developed on: the parsers are
tested on replies built from the cmdlets' documented output (tests/unit/support/windows_replies.py).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .base import Skip
from .nsexec import run_command
from .rows import AddrRow, FirewallRow, LinkRow, RouteLookupRow, RouteRow
from .vantage import Vantage

POWERSHELL = ("powershell.exe", "-NoProfile", "-NonInteractive", "-Command")

ADAPTERS = ("Get-NetAdapter | Select-Object Name,InterfaceIndex,MacAddress,Status,AdminStatus,"
            "MediaConnectionState,MtuSize,InterfaceDescription | ConvertTo-Json")
# Get-NetIPConfiguration groups addresses per adapter; flattened here to one object per address.
ADDRESSES = ("Get-NetIPConfiguration -All | ForEach-Object { $c = $_; @($c.IPv4Address) + @($c.IPv6Address) | "
             "Where-Object { $_ } | ForEach-Object { [pscustomobject]@{InterfaceAlias=$c.InterfaceAlias; "
             "InterfaceIndex=$c.InterfaceIndex; IPAddress=$_.IPAddress; PrefixLength=$_.PrefixLength; "
             "AddressFamily=[string]$_.AddressFamily} } } | ConvertTo-Json")
ROUTES = ("Get-NetRoute | Select-Object DestinationPrefix,NextHop,InterfaceAlias,InterfaceIndex,RouteMetric,"
          "@{n='AddressFamily';e={[string]$_.AddressFamily}},@{n='Protocol';e={[string]$_.Protocol}} | ConvertTo-Json")
PROFILES = ("Get-NetFirewallProfile | Select-Object Name,@{n='Enabled';e={[string]$_.Enabled}},"
            "@{n='DefaultInboundAction';e={[string]$_.DefaultInboundAction}} | ConvertTo-Json")
# Enabled inbound rules that can match ICMPv4 echo (protocol ICMPv4 or Any), with their ICMP filter.
RULES = ("Get-NetFirewallRule -Direction Inbound -Enabled True | ForEach-Object { $f = $_ | "
         "Get-NetFirewallPortFilter; if ($f.Protocol -in @('ICMPv4','1','Any')) { [pscustomobject]@{"
         "Name=$_.Name; DisplayName=$_.DisplayName; Action=[string]$_.Action; Profile=[string]$_.Profile; "
         "Protocol=[string]$f.Protocol; IcmpType=[string]$f.IcmpType} } } | ConvertTo-Json")


def lookup_script(dst: str) -> str:
    """``Find-NetRoute`` for one address (validated here: the only value that goes into a script)."""
    addr = str(ipaddress.ip_address(dst))
    return (f"Find-NetRoute -RemoteIPAddress '{addr}' | Select-Object InterfaceAlias,IPAddress,NextHop,"
            "DestinationPrefix | ConvertTo-Json")


def objects(text: str) -> list[dict[str, Any]]:
    """ConvertTo-Json output as a list of objects (one object, a list, or nothing)."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        return []
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    return [i for i in items if isinstance(i, dict)]


def run_ps(vantage: Vantage, script: str, timeout: float = 20.0) -> tuple[list[dict[str, Any]], str]:
    res = run_command(vantage, [*POWERSHELL, script], timeout=timeout)
    if res.returncode == 127:
        raise Skip(res.stderr.strip().splitlines()[0] if res.stderr.strip() else "powershell.exe not found")
    if not res.ok:
        lines = res.stderr.strip().splitlines()
        raise RuntimeError(f"powershell: {lines[0] if lines else f'exit {res.returncode}'}")
    return objects(res.stdout), res.stdout


def _is(value: Any, *names: Any) -> bool:
    return value in names or str(value).lower() in {str(n).lower() for n in names}


def links_from_ps(items: Sequence[Mapping[str, Any]]) -> list[LinkRow]:
    rows = []
    for i in items:
        rows.append(LinkRow(
            ifindex=int(i.get("InterfaceIndex") or 0),
            name=str(i.get("Name", "")),
            kind="",
            operstate="UP" if _is(i.get("Status"), "Up") else "DOWN",
            admin_up=_is(i.get("AdminStatus"), 1, "Up"),
            carrier=_is(i.get("MediaConnectionState"), 1, "Connected"),
            mtu=int(i.get("MtuSize") or 0),
            mac=str(i.get("MacAddress") or "").replace("-", ":").lower(),
            driver=str(i.get("InterfaceDescription") or ""),
        ))
    return rows


def _scope(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    return "host" if ip.is_loopback else "link" if ip.is_link_local else "global"


def addrs_from_ps(items: Sequence[Mapping[str, Any]]) -> list[AddrRow]:
    rows = []
    for i in items:
        address = str(i.get("IPAddress") or "").split("%")[0]
        if not address:
            continue
        family = "inet6" if ":" in address else "inet"
        rows.append(AddrRow(ifname=str(i.get("InterfaceAlias", "")), family=family, address=address,
                            prefixlen=int(i.get("PrefixLength") or 0), scope=_scope(address)))
    return rows


def routes_from_ps(items: Sequence[Mapping[str, Any]]) -> list[RouteRow]:
    rows = []
    for i in items:
        prefix = str(i.get("DestinationPrefix") or "")
        family = "inet6" if ":" in prefix else "inet"
        hop = str(i.get("NextHop") or "")
        rows.append(RouteRow(
            dst="default" if prefix in ("0.0.0.0/0", "::/0") else prefix,
            gateway="" if hop in ("0.0.0.0", "::", "") else hop,
            dev=str(i.get("InterfaceAlias") or ""),
            protocol=str(i.get("Protocol") or "").lower(),
            metric=int(i.get("RouteMetric") or 0),
            family=family,
        ))
    return rows


def lookup_from_ps(dst: str, items: Sequence[Mapping[str, Any]]) -> RouteLookupRow:
    """Find-NetRoute answers with the source address object and the route object."""
    src = next((str(i["IPAddress"]) for i in items if i.get("IPAddress")), "")
    route = next((i for i in items if i.get("DestinationPrefix")), None)
    if route is None:
        return RouteLookupRow(dst=dst, type="unreachable", error="Find-NetRoute found no route")
    hop = str(route.get("NextHop") or "")
    return RouteLookupRow(dst=dst, type="unicast", dev=str(route.get("InterfaceAlias") or ""),
                          gateway="" if hop in ("0.0.0.0", "::") else hop, prefsrc=src, table="main")


def firewall_from_ps(profiles: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]]) -> list[FirewallRow]:
    """Profiles as policy rows of chain "inbound" (table: the profile), rules as rule rows.

    A rule's text starts with its Name (what ``Disable-NetFirewallRule -Name`` takes), then
    its display name as wf.msc shows it, protocol and ICMP type; its verdict is its action.
    """
    rows: list[FirewallRow] = []
    for p in profiles:
        on = _is(p.get("Enabled"), True, 1, "True")
        action = "drop" if _is(p.get("DefaultInboundAction"), "Block", 4) or _is(
            p.get("DefaultInboundAction"), "NotConfigured", 0) else "accept"
        rows.append(FirewallRow(backend="windows", family="inet", table=str(p.get("Name", "")), chain="inbound",
                                hook="input", policy=action if on else "accept", manager="windows-firewall"))
    for n, r in enumerate(rules):
        action = "drop" if _is(r.get("Action"), "Block", 4) else "accept"
        icmp = str(r.get("IcmpType") or "Any")
        name, shown = str(r.get("Name") or ""), str(r.get("DisplayName") or "")
        text = f"{name} ({shown}): {r.get('Protocol')} icmp-type {icmp} {action}"
        rows.append(FirewallRow(backend="windows", family="inet", table=str(r.get("Profile") or "Any"),
                                chain="inbound", hook="input", rule=text, verdict=action, position=n,
                                manager="windows-firewall"))
    return rows


def allows_echo(rule: FirewallRow) -> bool:
    """Does this rule row match an inbound ICMPv4 echo request (type 8, or any type)?"""
    icmp = rule.rule.rsplit("icmp-type ", 1)[-1].split()[0] if "icmp-type " in rule.rule else "Any"
    return icmp in ("Any", "8", "8:*") or icmp.startswith("8:")


def windows_output(probe_id: str, vantage: Vantage, **params: Any) -> Any:
    """The probe's output for a Windows guest, or None when ``vantage`` is no Windows guest.

    The one call each namespace probe makes before its ``ip -j`` path: a Linux guest (or
    a guest whose agent cannot say) goes on as before.
    """
    from .base import ProbeOutput
    from .guest_agent import is_windows

    if vantage.kind != "libvirt" or not is_windows(vantage):
        return None
    if probe_id == "link.list":
        items, raw = run_ps(vantage, ADAPTERS)
        return ProbeOutput(rows=tuple(links_from_ps(items)), raw=raw)
    if probe_id == "addr.list":
        items, raw = run_ps(vantage, ADDRESSES)
        return ProbeOutput(rows=tuple(addrs_from_ps(items)), raw=raw)
    if probe_id == "route.list":
        items, raw = run_ps(vantage, ROUTES)
        return ProbeOutput(rows=tuple(routes_from_ps(items)), raw=raw)
    if probe_id == "route.lookup":
        dst = str(params["dst"])
        items, raw = run_ps(vantage, lookup_script(dst))
        return ProbeOutput(rows=(lookup_from_ps(dst, items),), raw=raw)
    if probe_id == "firewall.rules":
        profiles, raw_p = run_ps(vantage, PROFILES)
        rules, raw_r = run_ps(vantage, RULES, timeout=60.0)
        return ProbeOutput(rows=tuple(firewall_from_ps(profiles, rules)), raw=raw_p + "\n" + raw_r)
    raise Skip(f"{probe_id} is not available in a Windows guest")


def rule_name(rule: FirewallRow) -> str:
    """The Windows rule's Name from a row made by :func:`firewall_from_ps`."""
    return rule.rule.split(" (", 1)[0]
