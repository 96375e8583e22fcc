"""The Tables screen's headless parts: sources, row keys, columns, recorded look-ups."""

from __future__ import annotations

import dataclasses

from tests.tui.support.engine import GUEST, HOST
from tests.tui.support.views import FIREWALL, links, make_request
from vnetdoctor.probes.base import ERROR, OK, SKIPPED, Observation
from vnetdoctor.probes.rows import LinkRow, SysctlRow
from vnetdoctor.probes.vantage import LOCAL, Vantage
from vnetdoctor.tui.table_cells import format_value, matches, sort_key, truncate
from vnetdoctor.tui.table_sources import (
    SOURCE_BY_ID,
    SOURCES,
    columns_for,
    field_names,
    keyed_rows,
    recorded_for,
    run_source,
    table_rows,
    vantages_for,
)


def test_every_probe_of_the_brief_has_a_table_and_every_compact_set_fits_80_columns() -> None:
    assert [s.probe for s in SOURCES] == [
        "link.list", "addr.list", "route.list", "neigh.list", "bridge.ports", "bridge.fdb",
        "firewall.rules", "sysctl.net", "libvirt.domains", "libvirt.networks", "libvirt.leases",
    ]
    for source in SOURCES:
        # Widths are caps, so this is the worst case; an uncapped column needs its header.
        widths = [w if w is not None else len(name) for name, w in source.compact]
        side = 8 + 2 if source.sides != ("platform",) else 0
        used = sum(widths) + 2 * len(widths) + side + 2  # cell padding, the side column, scrollbar
        assert used <= 80, (source.id, used)


def test_rows_are_keyed_by_side_and_identity_and_repeats_get_a_suffix() -> None:
    source = SOURCE_BY_ID["links"]
    obs = [("host", Observation("link.list", str(HOST), OK, rows=links()[:2])),
           ("guest", Observation("link.list", str(GUEST), OK, rows=links()[:1] * 2))]
    rows = table_rows(source, obs)
    assert list(keyed_rows(source, rows)) == ["host|lo", "host|br0", "guest|lo", "guest|lo#2"]


def test_firewall_rows_keyed_by_chain_and_rule_text_and_policy_shown_as_rule() -> None:
    # The key is the rule's text, not its handle and position (a reload renumbers handles):
    # the identity FirewallRow declares, shared with the session diff.
    source = SOURCE_BY_ID["firewall"]
    rows = table_rows(source, [("host", Observation("firewall.rules", str(HOST), OK, rows=FIREWALL))])
    keyed = keyed_rows(source, rows)
    rule = "host|nftables|inet|filter|input|ip saddr 198.18.0.1 icmp type echo-request drop"
    assert list(keyed) == ["host|nftables|inet|filter|input|", rule]
    assert keyed["host|nftables|inet|filter|input|"]["rule"] == "(policy accept)"
    assert keyed[rule]["handle"] == 4


def test_columns_compact_below_160_all_fields_at_160() -> None:
    source = SOURCE_BY_ID["links"]
    fields = [f.name for f in dataclasses.fields(LinkRow)]
    compact = [c.key for c in columns_for(source, fields, 80, multi_side=True)]
    assert compact == ["at", "name", "operstate", "carrier", "mtu", "mac", "master"]
    wide = [c.key for c in columns_for(source, fields, 160, multi_side=False)]
    assert wide[:4] == ["name", "kind", "operstate", "admin_up"] and sorted(wide) == sorted(fields)


def test_fields_known_without_rows_and_unknown_row_shapes_still_get_columns() -> None:
    assert field_names(SOURCE_BY_ID["sysctls"], []) == ["key", "value"]
    assert field_names(SOURCE_BY_ID["leases"], [])[:3] == ["network", "mac", "ip"]
    odd = columns_for(SOURCE_BY_ID["domains"], ["a", "b", "c"], 80, multi_side=False)
    assert [c.key for c in odd] == ["a", "b", "c"]


def test_libvirt_tables_run_on_the_host_or_on_the_libvirt_guest_uri() -> None:
    request = make_request()
    assert vantages_for(SOURCE_BY_ID["links"], request) == [("host", HOST), ("guest", GUEST)]
    assert vantages_for(SOURCE_BY_ID["domains"], request) == [("host", HOST)]
    virt = dataclasses.replace(request, host=LOCAL, guest=Vantage("libvirt", "vm1", "qemu:///system"))
    assert vantages_for(SOURCE_BY_ID["leases"], virt) == [("host", virt.guest)]
    assert vantages_for(SOURCE_BY_ID["routes"], None) == [("host", LOCAL)]


def test_run_source_turns_a_missing_probe_and_a_crash_into_reasons() -> None:
    def runner(probe: str, vantage: Vantage, **params: object) -> Observation:
        if vantage == HOST:
            raise KeyError(probe)
        raise OSError("boom\nsecond line")

    out = run_source(SOURCE_BY_ID["fdb"], [("host", HOST), ("guest", GUEST)], runner)
    assert [(side, o.status, o.reason) for side, o in out] == [
        ("host", SKIPPED, "probe bridge.fdb is not available"),
        ("guest", ERROR, "OSError: boom"),
    ]


def test_recorded_prefers_the_full_run_and_the_latest_per_vantage() -> None:
    full = Observation("sysctl.net", str(HOST), OK, rows=(SysctlRow("net.ipv4.ip_forward", "0"),))
    newer = Observation("sysctl.net", str(HOST), OK, rows=(SysctlRow("net.ipv4.ip_forward", "1"),))
    subset = Observation("sysctl.net", str(HOST), OK, rows=(), params=(("keys", "x"),))
    other = Observation("link.list", str(HOST), OK)
    out = recorded_for(SOURCE_BY_ID["sysctls"], [full, subset, other, newer, subset], make_request())
    assert out == [("host", newer)]


def test_cell_formatting_sorting_and_filter_rules() -> None:
    assert [format_value(v) for v in (True, None, 1.0, 0.25, ("dynamic", "permanent"))] == [
        "yes", "", "1", "0.25", "dynamic,permanent"]
    assert sorted(["10", "9", "", "b", "A"], key=sort_key) == ["9", "10", "A", "b", ""]
    assert truncate("net.ipv4.conf.all.rp_filter", 10) == "net.ipv4.…"
    assert truncate("宿主机宿主机", 7) == "宿主机…"
    assert matches(["vnet0", "UP"], "VNET") and not matches(["br0"], "vnet")


def test_every_view_string_exists_in_english_and_chinese() -> None:
    import re
    from pathlib import Path

    from vnetdoctor.tui.screens.packets import PacketsScreen
    from vnetdoctor.tui.screens.packets_panes import PANE_KEYS, PANES
    from vnetdoctor.tui.screens.tables import TABLE_KEYS, TablesScreen
    from vnetdoctor.knowledge.text import file_texts
    from vnetdoctor.tui.widgets.packet_list import COLUMNS

    strings = file_texts("ui_views.toml")
    for key, entry in strings.items():
        assert entry.get("en") and entry.get("zh"), key
        assert set(re.findall(r"{\w+}", entry["en"])) == set(re.findall(r"{\w+}", entry["zh"])), key
    root = Path(__file__).resolve().parents[2] / "tui"
    files = [*sorted(root.glob("screens/packets*.py")), *sorted(root.glob("screens/tables*.py"))]
    files += [root / "widgets/path_view.py", root / "widgets/packet_detail.py", root / "widgets/table_view.py"]
    literal = re.compile(r"""\b(?:text|_text|t)\(\s*["']((?:packets|tables|pathview|views)\.[\w.]*\w)["']""")
    used = {m for f in files for m in literal.findall(f.read_text())}
    used |= {f"tables.name.{s.id}" for s in SOURCES} | {c.label_key for c in COLUMNS}
    used |= {f"packets.pane.{p}" for p in PANES} | {PANE_KEYS.description, TABLE_KEYS.description}
    used |= {f"pathview.verdict.{k}" for k in ("ok", "lost_request", "answered_early", "no_reply", "lost_reply", "unknown")}
    used |= {f"pathview.{k}" for k in ("req", "rep")} | {f"views.side.{s}" for s in ("host", "guest")}
    used |= {b.description for b in [*PacketsScreen.BINDINGS, *TablesScreen.BINDINGS]}  # type: ignore[union-attr]
    assert len(used) > 60
    assert sorted(k for k in used if k not in strings) == []


def test_the_table_sources_import_without_textual() -> None:
    import subprocess
    import sys

    code = "import sys, vnetdoctor.tui.table_sources; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_a_counter_or_handle_change_keeps_the_key_and_identical_rules_stay_two_rows() -> None:
    source = SOURCE_BY_ID["firewall"]
    policy, rule = FIREWALL

    def keys(*rows: object) -> list[str]:
        obs = Observation("firewall.rules", str(HOST), OK, rows=tuple(rows))
        return list(keyed_rows(source, table_rows(source, [("host", obs)])))

    reloaded = dataclasses.replace(rule, handle=40, packets=9000, bytes=756000, position=3)
    assert keys(policy, rule) == keys(policy, reloaded)
    twice = keys(policy, rule, dataclasses.replace(rule, handle=5, position=1))
    assert len(twice) == 3 and twice[2] == twice[1] + "#2"
