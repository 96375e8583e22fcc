"""A recorded row in one line, as an operator would say it: ``link vnet0 UP mtu 1500``.

The session diff lists rows that appeared or went away with :func:`describe`, and
names a row whose fields changed by its identity alone (:func:`row_identity`). Rows come
as frozen dataclasses (a live session) or as dicts with ``_type`` (a loaded record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from vnetdoctor.probes.kernel_drops_parse import CONSUMED
from vnetdoctor.probes.rowkey import RUN_TO_RUN, index_rows, numbered, row_key

# Fields that differ between any two runs: never reported.
VOLATILE = RUN_TO_RUN | {"time", "at_ms"}  # at_ms: when in the kernel watch a drop was seen


def row_fields(row: Any) -> tuple[str, dict[str, Any]]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return type(row).__name__, {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    if isinstance(row, Mapping):
        data = dict(row)
        return str(data.pop("_type", "row")), data
    return type(row).__name__, {"value": row}


def value_text(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "—"
    return str(value)


def describe(row: Any) -> str:
    """A row in one line, as an operator would say it."""
    kind, d = row_fields(row)
    g = d.get
    if kind == "LinkRow":
        extra = f" master {g('master')}" if g("master") else ""
        state = g("operstate") + ("" if g("admin_up") else " (admin down)")
        return f"link {g('name')} {state} mtu {g('mtu')}{extra}"
    if kind == "AddrRow":
        return f"address {g('address')}/{g('prefixlen')} on {g('ifname')}"
    if kind == "RouteRow":
        via = f" via {g('gateway')}" if g("gateway") else ""
        dev = f" dev {g('dev')}" if g("dev") else ""
        table = f" table {g('table')}" if g("table") not in ("main", "", None) else ""
        kind_ = f"{g('type')} " if g("type") not in ("unicast", "", None) else ""
        return f"route {kind_}{g('dst')}{via}{dev}{table}"
    if kind == "RouteLookupRow":
        if g("error"):
            return f"route get {g('dst')}: {g('error')}"
        via = f" via {g('gateway')}" if g("gateway") else ""
        return f"route get {g('dst')}: {g('type')}{via} dev {g('dev')}"
    if kind == "NeighRow":
        return f"neighbour {g('address')} on {g('ifname')}: {g('lladdr') or '—'} {g('state')}"
    if kind == "BridgeRow":
        return f"bridge {g('name')} stp {value_text(g('stp_enabled'))} vlan_filtering {value_text(g('vlan_filtering'))}"
    if kind == "BridgePortRow":
        return f"port {g('port')} of {g('bridge')}: {g('state')}"
    if kind == "FdbRow":
        return f"fdb {g('mac')} on {g('bridge')}/{g('port')}"
    if kind == "BridgeVlanRow":
        return f"vlan {g('vid')} on {g('bridge')}/{g('port')}"
    if kind == "SysctlRow":
        return f"{g('key')} = {g('value')}"
    if kind == "FirewallRow":
        where = f"{g('backend')} {g('family')} {g('table')} {g('chain')}"
        if g("rule"):
            return f"{where}: {g('rule')}"
        return f"{where}: policy {g('policy') or '—'}"
    if kind == "EchoRow":
        got = (
            f"reply {g('rtt_ms'):.1f} ms" if g("rtt_ms") is not None else (g("error") or "no reply")
        )
        return f"ping {g('dst')} size {g('size')}{' DF' if g('df') else ''} seq {g('seq')}: {got}"
    if kind == "TcpRow":
        return f"tcp {g('dst')}:{g('port')} {g('state')}"
    if kind == "ArpReplyRow":
        return f"arp {g('ip')} is-at {g('mac')} on {g('iface')}"
    if kind == "DnsRow":
        return f"dns {g('resolver')}: {g('state')}"
    if kind == "KernelDropRow":
        reason = f" {g('reason')}" if g("reason") else ""
        return (f"kernel {g('verdict')}{reason}: {g('probe')} {g('kind')} length {g('length')}"
                f" in {g('function')} after {g('side')} {g('last_dev')} ({g('direction')})")
    shown = " ".join(f"{k}={value_text(v)}" for k, v in d.items() if k not in VOLATILE)
    return f"{kind} {shown}"


def row_identity(kind: str, data: Mapping[str, Any]) -> str:
    """The short name of a row for a "changed" line (its identity only)."""
    g = data.get
    names = {
        "LinkRow": lambda: f"link {g('name')}",
        "AddrRow": lambda: f"address {g('address')} on {g('ifname')}",
        "RouteRow": lambda: (
            f"route {g('dst')}"
            + (f" table {g('table')}" if g("table") not in ("main", "", None) else "")
        ),
        "RouteLookupRow": lambda: f"route get {g('dst')}",
        "NeighRow": lambda: f"neighbour {g('address')} on {g('ifname')}",
        "BridgeRow": lambda: f"bridge {g('name')}",
        "BridgePortRow": lambda: f"port {g('port')}",
        "FdbRow": lambda: f"fdb {g('mac')} on {g('bridge')}/{g('port')}",
        "BridgeVlanRow": lambda: f"vlan {g('vid')} on {g('bridge')}/{g('port')}",
        "SysctlRow": lambda: str(g("key")),
        "FirewallRow": lambda: describe({"_type": kind, **data}),
        "EchoRow": lambda: (
            f"ping {g('dst')} size {g('size')}{' DF' if g('df') else ''} seq {g('seq')}"
        ),
        "ArpReplyRow": lambda: f"arp {g('ip')} is-at {g('mac')}",
        "TcpRow": lambda: f"tcp {g('dst')}:{g('port')}",
        "DnsRow": lambda: f"dns {g('resolver')}",
    }
    if kind in names:
        return names[kind]()
    return kind


def delivered(row: Any) -> bool:
    """A probe packet the kernel delivered (consumed), not dropped: where a working ping ends.

    Which socket takes which copy first (raw_recvmsg, packet_recvmsg) varies run to
    run, so two healthy sessions differed by a dozen such lines; a drop that became a
    delivery still shows, as the drop line that went away.
    """
    kind, data = row_fields(row)
    return kind == "KernelDropRow" and data.get("verdict") == CONSUMED


def _masked(row: Any, chosen: frozenset[str]) -> Any:
    """The row with the fields the run chose (``chosen``) blanked, for pairing only."""
    _, data = row_fields(row)
    hit = {f: None for f in chosen if f in data}
    if not hit:
        return row
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.replace(row, **hit)
    return {**row, **hit}


def indexed(rows: Iterable[Any], chosen: frozenset[str]) -> dict[tuple[Any, ...], Any]:
    """Rows by key (as :func:`index_rows`), keyed without the fields the run chose."""
    rows = list(rows)
    if not chosen:
        return index_rows(rows)
    keys = numbered(row_key(_masked(r, chosen)) for r in rows)
    return {(key if n == 1 else (*key, n)): r for (key, n), r in zip(keys, rows)}
