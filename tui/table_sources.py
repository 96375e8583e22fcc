"""Which probe feeds which table view, on which vantages, and how its rows become columns.

The Tables screen shows what an operator would otherwise type by hand
(``ip link``, ``ip addr``, ``ip route``, ``ip neigh``, ``bridge link``,
``bridge fdb``, ``nft list ruleset``, ``sysctl``, ``virsh list`` / ``net-list`` /
``net-dhcp-leases``), from the host and the guest side at once. This module is
headless (no Textual): it names the sources, runs them (blocking — callers use a
worker), picks recorded observations on replay, and turns rows into keyed cell
mappings for :class:`~vnetdoctor.tui.widgets.keyed_table.KeyedTable`.

Row keys are the identity each row type declares (``KEY_FIELDS``, see
:mod:`vnetdoctor.probes.rowkey`; ``vnetdoctor diff`` pairs rows by the same),
prefixed with the side, so that a refresh updates a row in place instead of
replacing it: a firewall rule whose counters moved, or whose handle changed on a
reload, stays the same row.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.knowledge.text import probe_reason, texts, tr
from vnetdoctor.probes.base import ERROR, SKIPPED, Observation
from vnetdoctor.probes.rowkey import numbered, row_key
from vnetdoctor.probes.vantage import LOCAL, Vantage

from .table_cells import ColumnSpec

ProbeRunner = Callable[..., Observation]  # run_probe(probe_id, vantage, **params)

WIDE_COLUMNS = 160  # at this width and above every field is a column
SIDE_COLUMN = "at"  # the pseudo-field naming the side a row came from


@dataclass(frozen=True)
class TableSource:
    """One table view: its probe and its columns at 80 and 160 columns.

    The row identity is not here: the row class declares it (``KEY_FIELDS``).
    """

    id: str
    probe: str
    # Compact column set for an 80-column terminal: (field, max width or None), most useful first.
    compact: tuple[tuple[str, int | None], ...]
    # In the wide (all fields) layout, these come first; the other fields follow in dataclass order.
    first: tuple[str, ...] = ()
    sides: tuple[str, ...] = ("host", "guest")
    row_class: str = ""  # class name of the rows (in probes.rows or probes.rows_libvirt)
    params: Mapping[str, Any] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)  # field -> "epoch" | "policy"


SOURCES: tuple[TableSource, ...] = (
    TableSource(
        "links", "link.list",
        (("name", 10), ("operstate", 9), ("carrier", 7), ("mtu", 5), ("mac", 17), ("master", None)),
        first=("name", "kind", "operstate", "admin_up", "carrier", "mtu", "mac", "master"),
        row_class="LinkRow",
    ),
    TableSource(
        "addresses", "addr.list",
        (("ifname", 10), ("address", None), ("prefixlen", 9), ("scope", 6)),
        first=("ifname", "address", "prefixlen"),
        row_class="AddrRow",
    ),
    TableSource(
        "routes", "route.list",
        (("dst", 18), ("gateway", 15), ("dev", 8), ("type", 7), ("metric", 6)),
        first=("dst", "gateway", "dev", "type", "prefsrc", "metric", "table"),
        row_class="RouteRow",
    ),
    TableSource(
        "neighbours", "neigh.list",
        (("ifname", 10), ("address", None), ("lladdr", 17), ("state", 10)),
        first=("ifname", "address", "lladdr", "state"),
        row_class="NeighRow",
    ),
    TableSource(
        "ports", "bridge.ports",
        (("bridge", 8), ("port", 10), ("state", 10), ("oper_up", 7), ("flood", 5), ("bcast_flood", 11)),
        first=("bridge", "port", "state", "oper_up"),
        row_class="BridgePortRow",
    ),
    TableSource(
        "fdb", "bridge.fdb",
        (("bridge", 8), ("port", 10), ("mac", 17), ("vlan", 4), ("is_local", 8), ("state", 9)),
        row_class="FdbRow",
    ),
    TableSource(
        "firewall", "firewall.rules",
        (("family", 6), ("table", 8), ("chain", 10), ("verdict", 7), ("packets", 7), ("rule", None)),
        first=("family", "table", "chain", "hook", "policy", "verdict", "packets", "manager", "rule"),
        row_class="FirewallRow",
        formats={"rule": "policy"},
    ),
    TableSource(
        "sysctls", "sysctl.net",
        (("key", 50), ("value", None)),
        row_class="SysctlRow",
    ),
    TableSource(
        "domains", "libvirt.domains",
        (("name", 14), ("state", 9), ("autostart", 9), ("agent_channel", 13), ("interfaces", 10),
         ("reason", None)),
        first=("name", "state", "reason", "autostart", "agent_channel", "interfaces"),
        sides=("platform",),
        row_class="DomainRow",
    ),
    TableSource(
        "networks", "libvirt.networks",
        (("name", 12), ("active", 6), ("autostart", 9), ("forward", 7), ("bridge", 8), ("address", 15)),
        first=("name", "active", "autostart", "forward", "bridge", "address", "prefixlen"),
        sides=("platform",),
        row_class="NetworkRow",
    ),
    TableSource(
        "leases", "libvirt.leases",
        (("network", 10), ("mac", 17), ("ip", 15), ("expiry", 16), ("hostname", None)),
        first=("network", "mac", "ip", "prefixlen", "hostname", "expiry"),
        sides=("platform",),
        row_class="LeaseRow",
        formats={"expiry": "epoch"},
    ),
)

SOURCE_BY_ID: Mapping[str, TableSource] = {s.id: s for s in SOURCES}


# --- where each source runs ----------------------------------------------------------


def side_vantages(request: Any) -> list[tuple[str, Vantage]]:
    """``[("host", V), ("guest", V)]`` for the request (this machine when there is none)."""
    if request is None:
        return [("host", LOCAL)]
    out = [("host", request.host)]
    if getattr(request, "guest", None) is not None:
        out.append(("guest", request.guest))
    return out


def platform_vantage(request: Any) -> Vantage:
    """Where the libvirt probes run: a ``libvirt:`` guest vantage carries the URI, else the host."""
    if request is None:
        return LOCAL
    guest = getattr(request, "guest", None)
    if guest is not None and guest.kind == "libvirt":
        return guest
    return request.host


def vantages_for(source: TableSource, request: Any) -> list[tuple[str, Vantage]]:
    """``(side, vantage)`` pairs the source runs on; libvirt tables are the host's view."""
    if source.sides == ("platform",):
        return [("host", platform_vantage(request))]
    return [(side, v) for side, v in side_vantages(request) if side in source.sides]


def _format(kind: str, value: Any, row: Mapping[str, Any]) -> Any:
    """Display forms: an epoch as local time; a chain's policy where its rule text is empty."""
    if kind == "epoch" and isinstance(value, (int, float)):
        import time

        return time.strftime("%Y-%m-%d %H:%M", time.localtime(value)) if value > 0 else ""
    if kind == "policy" and not value and row.get("policy"):
        return f"(policy {row['policy']})"
    return value


def run_source(
    source: TableSource,
    vantages: Sequence[tuple[str, Vantage]],
    runner: ProbeRunner,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[tuple[str, Observation]]:
    """Run the source's probe on each vantage (blocking; call it from a worker).

    A runner that raises (a probe module that is not installed yet, a bug) becomes
    an error observation: a table view shows the reason, it never crashes.
    """
    out: list[tuple[str, Observation]] = []
    for side, vantage in vantages:
        if cancelled():
            break
        try:
            obs = runner(source.probe, vantage, **dict(source.params))
        except KeyError:
            obs = Observation(source.probe, str(vantage), SKIPPED, reason=f"probe {source.probe} is not available")
        except Exception as exc:  # noqa: BLE001 - shown as the table's reason
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            obs = Observation(source.probe, str(vantage), ERROR, reason=reason)
        out.append((side, obs))
    return out


def recorded_for(
    source: TableSource, observations: Iterable[Observation], request: Any
) -> list[tuple[str, Observation]]:
    """The recorded observations of this source's probe (replay), tagged with their side.

    The same probe may have run several times in a walk (once per step that needed
    it); the last observation per vantage is the freshest. A run with parameters
    (a subset, such as one interface's sysctls) never hides a full one.
    """
    names = {str(v): side for side, v in side_vantages(request)}
    names.setdefault(str(platform_vantage(request)), "host")
    latest: dict[str, Observation] = {}
    for obs in observations:
        if obs.probe != source.probe:
            continue
        before = latest.get(obs.vantage)
        if before is None or not obs.params or before.params:
            latest[obs.vantage] = obs
    return [(names.get(vantage, vantage), obs) for vantage, obs in latest.items()]


def session_observations(state: Any) -> list[Observation]:
    """Every observation the session serves now: live, or a replay at its selected point.

    Asked of the session (its observer), never of the mode; a state with only an
    engine (a view opened over finished results) reads the engine's results.
    """
    session = getattr(state, "session", None)
    if session is not None:
        return session.observations()
    return engine_observations(getattr(state, "engine", None))


def session_runs(state: Any) -> list[list[Observation]]:
    """The observations of each walk the session holds (first, each re-run); one list when live."""
    session = getattr(state, "session", None)
    if session is not None:
        return session.capture_runs()
    return [engine_observations(getattr(state, "engine", None))]


def engine_observations(engine: Any) -> list[Observation]:
    """Every observation the engine's results hold, in step order (empty without an engine)."""
    if engine is None:
        return []
    try:
        results = engine.results()
    except Exception:  # noqa: BLE001 - an engine without results is just empty
        return []
    return [obs for result in results.values() for obs in result.observations]


# --- rows to cells -------------------------------------------------------------------


def _fields_of_class(name: str) -> list[str]:
    """Field names of a row class, when it can be found (rows of a probe not run yet)."""
    import importlib

    for module in ("vnetdoctor.probes.rows", "vnetdoctor.probes.rows_libvirt"):
        mod = importlib.import_module(module)
        cls = getattr(mod, name, None)
        if cls is not None and dataclasses.is_dataclass(cls):
            return [f.name for f in dataclasses.fields(cls)]
    return []


def _as_mapping(item: Any) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    if isinstance(item, Mapping):
        return {str(k): v for k, v in item.items() if not str(k).startswith("_")}
    return None


def _type_name(item: Any) -> str:
    if isinstance(item, Mapping):
        return str(item.get("_type", "dict"))
    return type(item).__name__


def table_rows(source: TableSource, observations: Sequence[tuple[str, Observation]]) -> list[dict[str, Any]]:
    """The rows of every ok observation as raw field mappings, with the side as ``at``.

    A probe may return more than one row type (a bridge probe may report the
    bridge itself with its ports): the table keeps its own type, or, when that is
    unknown, the most common one. Values are as the probe gave them: display
    forms are applied by :func:`keyed_rows`, after the key is taken.
    """
    items = [(side, item) for side, obs in observations if obs.ok for item in obs.rows]
    if not items:
        return []
    kinds = Counter(_type_name(item) for _, item in items)
    wanted = source.row_class if source.row_class in kinds else kinds.most_common(1)[0][0]
    rows = []
    for side, item in items:
        if _type_name(item) != wanted:
            continue
        values = _as_mapping(item)
        if values is not None:
            rows.append({SIDE_COLUMN: side, **values})
    return rows


def keyed_rows(source: TableSource, rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows by key ``side|identity…`` in display form; a repeated identity gets ``#2``, ``#3``.

    The identity is the row class's declared key (:func:`~vnetdoctor.probes.rowkey.row_key`,
    the one the diff uses), taken from the raw values before display forms apply
    (a policy row's empty rule text, not "(policy accept)"). A row shape the
    class does not describe is identified by its whole content.
    """
    bases = []
    for values in rows:
        raw = {k: v for k, v in values.items() if k != SIDE_COLUMN}
        identity = row_key(raw, source.row_class)[1:]
        bases.append("|".join([str(values.get(SIDE_COLUMN, "")), *(str(part) for part in identity)]))
    out: dict[str, dict[str, Any]] = {}
    for (base, n), values in zip(numbered(bases), rows):
        shown = dict(values)
        for name, kind in source.formats.items():
            if name in shown:
                shown[name] = _format(kind, shown[name], values)
        out[base if n == 1 else f"{base}#{n}"] = shown
    return out


def field_names(source: TableSource, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if rows:
        return [k for k in rows[0] if k != SIDE_COLUMN]
    return _fields_of_class(source.row_class)


def columns_for(
    source: TableSource, fields: Sequence[str], width: int, multi_side: bool, all_fields: bool = False
) -> list[ColumnSpec]:
    """The columns to show at this terminal width.

    Below :data:`WIDE_COLUMNS` the compact set chosen for 80 columns (fields the
    rows do not have are left out); at 160 and wider, or when the operator asks,
    every field, the most useful first.
    """
    specs: list[ColumnSpec] = []
    if multi_side:
        specs.append(ColumnSpec(SIDE_COLUMN, SIDE_COLUMN, 8))
    known = list(fields)
    if all_fields or width >= WIDE_COLUMNS:
        ordered = [f for f in source.first if f in known] + [f for f in known if f not in source.first]
        specs += [ColumnSpec(f, f, 40 if f != "rule" else None) for f in ordered]
        return specs
    compact = [(f, w) for f, w in source.compact if f in known]
    if len(compact) < 2:  # rows of a shape this table did not expect: their first fields
        compact = [(f, 16) for f in known[:6]]
    specs += [ColumnSpec(f, f, w) for f, w in compact]
    return specs


def localize_cells(rows: Mapping[str, dict[str, Any]], lang: str) -> None:
    """The cells that are words, in the operator's language (in place): the side a row
    came from, and yes/no. Row keys and the other values stay as the probes gave them."""
    for values in rows.values():
        values[SIDE_COLUMN] = tr(f"views.side.{values[SIDE_COLUMN]}", lang)
        for name, value in values.items():
            if isinstance(value, bool):
                values[name] = tr("common.yes" if value else "common.no", lang)


def column_label(field: str, lang: str) -> str:
    """A column header in the operator's language (a field with no text reads as its name)."""
    return tr(f"tables.col.{field}", lang) if f"tables.col.{field}" in texts() else field


def status_of(observations: Sequence[tuple[str, Observation]], lang: str = "en") -> list[tuple[str, str, str]]:
    """``(side, vantage, "skipped: reason")`` for every observation that did not succeed,
    in the operator's language."""
    return [(side, obs.vantage, tr("obs.skipped" if obs.status == SKIPPED else "obs.error", lang,
                                   reason=probe_reason(obs.reason or "", lang)))
            for side, obs in observations if not obs.ok]
