"""A probe's observation as a compact table: which probe, from where, and its rows.

The walk shows every observation a step made, but in a side panel that is 48
columns wide at 80x24, so each row type has a short list of the columns that
matter most (the Tables screen shows them all). The table is a Rich table in a
Static: Rich shrinks and ellipsises columns to whatever width the panel has,
which a DataTable would not. A widget is re-rendered only when its observation
actually changed, so a re-run that found the same thing leaves it alone.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from vnetdoctor.knowledge.text import Translator, duration, probe_reason
from vnetdoctor.probes.base import ERROR, OK, SKIPPED, Observation

from ..glyphs import GlyphMap, glyph

MAX_ROWS = 8  # more than this and the operator is better served by the Tables screen

# The columns a narrow panel shows for each row type, most useful first.
COMPACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "LinkRow": ("name", "kind", "operstate", "carrier", "mtu", "mac", "master"),
    "AddrRow": ("ifname", "address", "prefixlen", "scope"),
    "RouteRow": ("dst", "gateway", "dev", "prefsrc", "table"),
    "RouteLookupRow": ("dst", "type", "dev", "gateway", "prefsrc", "error"),
    "NeighRow": ("ifname", "address", "lladdr", "state"),
    "BridgeRow": ("name", "stp_enabled", "forward_delay_s", "vlan_filtering", "nf_call_iptables"),
    "BridgePortRow": ("bridge", "port", "state", "flood", "bcast_flood", "bpdu_guard"),
    "FdbRow": ("bridge", "port", "mac", "state"),
    "BridgeVlanRow": ("bridge", "port", "vid", "pvid", "untagged"),
    "SysctlRow": ("key", "value"),
    "FirewallRow": ("chain", "rule", "verdict", "packets", "table", "manager"),
    "PacketRow": ("iface", "summary"),
    "EchoRow": ("dst", "seq", "size", "rtt_ms", "reply_from", "error"),
    "ArpReplyRow": ("ip", "mac", "iface", "count"),
    "TcpRow": ("dst", "port", "state", "rtt_ms", "error"),
    "DnsRow": ("resolver", "state", "rcode", "rtt_ms", "error"),
    "DomainRow": ("name", "state", "reason", "agent_channel", "interfaces"),
    "DomainIfaceRow": ("domain", "mac", "type", "source", "target", "link_state"),
    "NetworkRow": ("name", "active", "autostart", "forward", "bridge", "address"),
    "LeaseRow": ("network", "mac", "ip", "hostname"),
    "IfStatRow": ("domain", "target", "rx_packets", "tx_packets", "rx_dropped", "tx_dropped"),
    "PathRow": ("domain", "mac", "tap", "bridge", "network", "link_state"),
    "GuestLinkRow": ("name", "mac", "addresses"),
}

STATUS_MARKS = GlyphMap({OK: "ok", SKIPPED: "skipped", ERROR: "error"})


def observation_key(obs: Observation) -> str:
    """What identifies "the same observation" across re-runs: probe, vantage and parameters."""
    params = ",".join(f"{k}={v}" for k, v in obs.params)
    return f"{obs.probe}@{obs.vantage}" + (f"[{params}]" if params else "")


def columns_for(item: Any) -> tuple[str, ...]:
    """The compact columns for a row (all fields for a type this table does not know)."""
    name = type(item).__name__
    if name in COMPACT_COLUMNS:
        return COMPACT_COLUMNS[name]
    if dataclasses.is_dataclass(item):
        return tuple(f.name for f in dataclasses.fields(item))
    if isinstance(item, dict):
        return tuple(k for k in item if not k.startswith("_"))
    return ("value",)


def cell(value: Any, tr: Translator) -> str:
    """One value as the operator reads it: yes/no for flags, — for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return tr("common.yes") if value else tr("common.no")
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _get(item: Any, name: str) -> Any:
    if isinstance(item, dict):
        return item.get(name)
    if name == "value" and not dataclasses.is_dataclass(item):
        return item
    return getattr(item, name, None)


def caption(obs: Observation, tr: Translator) -> Text:
    """``✓ firewall.rules @ netns:vnd-guest · 5 rows · 3 ms`` or the skip/error reason."""
    mark = STATUS_MARKS.get(obs.status, glyph("ask"))
    style = {OK: "", SKIPPED: "dim", ERROR: "bold"}.get(obs.status, "")
    text = Text()
    text.append(f"{mark} ", style=style)
    text.append(obs.probe, style="bold")
    text.append(f" @ {obs.vantage}")
    if obs.params:
        text.append(" (" + " ".join(f"{k}={v}" for k, v in obs.params) + ")", style="dim")
    if obs.status == OK:
        text.append(" · " + tr("obs.rows", n=len(obs.rows)) + f" · {duration(obs.duration_ms, tr.lang)}", style="dim")
    elif obs.status == SKIPPED:
        text.append(" · " + tr("obs.skipped", reason=probe_reason(obs.reason or "", tr.lang)), style="dim")
    else:
        text.append(" · " + tr("obs.error", reason=obs.reason))
    return text


def render_observation(obs: Observation, tr: Translator, max_rows: int = MAX_ROWS) -> RenderableType:
    """The caption and, when the probe produced rows, a compact table of the first ``max_rows``."""
    head = caption(obs, tr)
    if obs.status != OK or not obs.rows:
        return head
    shown = obs.rows[:max_rows]
    cells = {c: [cell(_get(item, c), tr) for item in shown] for c in columns_for(obs.rows[0])}
    # A column that says "—" on every row tells nothing and costs width in a 48-column pane.
    cols = [c for i, (c, values) in enumerate(cells.items()) if i == 0 or any(v != "—" for v in values)]
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, expand=False, show_edge=False)
    for name in cols:
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=40)
    for i in range(len(shown)):
        table.add_row(*(Text(cells[c][i]) for c in cols))  # Text: data is never markup  # Text: data is never markup
    parts: list[RenderableType] = [head, table]
    if len(obs.rows) > max_rows:
        parts.append(Text(tr("obs.more", n=len(obs.rows) - max_rows), style="dim"))
    return Group(*parts)


class ObservationView(Static):
    """One observation of a step; re-rendered only when the observation changed."""

    DEFAULT_CSS = """
    ObservationView { height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, obs: Observation, tr: Translator, **kwargs: Any) -> None:
        self.observation = obs
        self._tr = tr
        super().__init__(render_observation(obs, tr), **kwargs)

    def update_observation(self, obs: Observation) -> bool:
        """Show ``obs``; returns False (and repaints nothing) when it equals what is shown."""
        if _same(obs, self.observation):
            return False
        self.observation = obs
        self.update(render_observation(obs, self._tr))
        return True


def _same(a: Observation, b: Observation) -> bool:
    """Equal for the operator: same status, reason and rows (durations always differ)."""
    return (a.status, a.reason, a.rows) == (b.status, b.reason, b.rows)
