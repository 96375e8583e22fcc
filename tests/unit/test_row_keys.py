"""Row identity: every row type declares its key, and the tables and the diff both use it."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass

import pytest
from vnetdoctor.probes.base import Observation, row
from vnetdoctor.probes.rowkey import (
    NEVER_IDENTITY,
    ROW_CLASSES,
    Row,
    index_rows,
    row_key,
    strip_counters,
)
from vnetdoctor.probes.rows import AddrRow, BridgePortRow, FirewallRow

import vnetdoctor.probes
from vnetdoctor.sessiondiff import diff_rows
from vnetdoctor.tui.table_sources import SOURCES


def _all_row_classes() -> list[type]:
    """Every frozen dataclass defined in a probes/rows*.py module (found, not listed)."""
    classes: list[type] = []
    for info in pkgutil.iter_modules(vnetdoctor.probes.__path__):
        if not info.name.startswith("rows"):
            continue
        module = importlib.import_module(f"vnetdoctor.probes.{info.name}")
        for value in vars(module).values():
            mine = isinstance(value, type) and value.__module__ == module.__name__
            if mine and dataclasses.is_dataclass(value):
                classes.append(value)
    return classes


def test_every_row_type_declares_a_key_of_its_own_stable_fields() -> None:
    classes = _all_row_classes()
    assert len(classes) >= 26
    for cls in classes:
        assert issubclass(cls, Row), cls.__name__
        fields = {f.name for f in dataclasses.fields(cls)}
        assert cls.KEY_FIELDS and set(cls.KEY_FIELDS) <= fields, cls.__name__
        assert not set(cls.KEY_FIELDS) & NEVER_IDENTITY, cls.__name__
        # The docstring says why the key is what it is.
        assert "Key:" in (cls.__doc__ or ""), cls.__name__
        assert ROW_CLASSES[cls.__name__] is cls
    # Every table's row class is one of them: the table keys on the declared key.
    assert {s.row_class for s in SOURCES} <= {c.__name__ for c in classes}


def test_a_row_type_without_a_key_or_keyed_on_a_counter_is_refused() -> None:
    with pytest.raises(TypeError, match="no KEY_FIELDS"):

        class NoKey(Row):
            name: str

    with pytest.raises(TypeError, match="change over time"):

        class CounterKey(Row):
            KEY_FIELDS = ("name", "packets")
            name: str
            packets: int

    with pytest.raises(TypeError, match="unknown fields"):

        class Typo(Row):
            KEY_FIELDS = ("nmae",)
            name: str

    with pytest.raises(TypeError, match="not a Row"):

        @row
        @dataclass(frozen=True)
        class Plain:
            name: str


RULE = FirewallRow(
    "nftables", "inet", "filter", "forward", hook="forward",
    rule="iifname \"vnet0\" ip saddr 198.18.0.11 counter packets 3 bytes 252 drop",
    verdict="drop", handle=4, packets=3, bytes=252, position=0,
)


def test_the_same_rule_in_two_sessions_with_other_handles_and_counters_diffs_as_unchanged() -> None:
    reloaded = dataclasses.replace(
        RULE, rule=RULE.rule.replace("packets 3 bytes 252", "packets 900 bytes 75600"),
        handle=17, packets=900, bytes=75600, position=2,
    )
    assert row_key(RULE) == row_key(reloaded)
    # Recorded and loaded again (rows travel as dicts through the store).
    loaded = Observation.from_dict(Observation("firewall.rules", "local", rows=(reloaded,)).to_dict()).rows
    assert diff_rows([RULE], loaded) == ((), (), (), None)
    # A really different rule is still a change.
    accept = dataclasses.replace(RULE, rule=RULE.rule.replace("drop", "accept"), verdict="accept")
    removed, added, _, _ = diff_rows([RULE], [accept])
    assert len(removed) == len(added) == 1


def test_counters_are_stripped_from_every_form_of_rule_text() -> None:
    nft = "ip saddr 198.18.0.1 counter packets 12 bytes 1008 drop"
    assert strip_counters(nft) == "ip saddr 198.18.0.1 counter drop"
    as_json = '[{"counter":{"bytes":1008,"packets":12}},{"drop":null}]'
    assert strip_counters(as_json) == '[{"counter":{}},{"drop":null}]'
    assert strip_counters("[12:1008] -A FORWARD -i vnet0 -j DROP") == "-A FORWARD -i vnet0 -j DROP"
    assert strip_counters("-i vnet0 -c 12 1008 -j DROP") == "-i vnet0 -j DROP"


def test_two_identical_rules_in_one_chain_stay_two_rows_for_the_diff() -> None:
    twice = [RULE, dataclasses.replace(RULE, handle=9, position=1)]
    indexed = index_rows(twice)
    assert len(indexed) == 2 and list(indexed.values()) == twice
    removed, added, changed, _ = diff_rows(twice, twice[:1])
    assert len(removed) == 1 and added == () and changed == ()


def test_keys_hold_identity_not_attributes_a_fix_changes() -> None:
    before = AddrRow("eth0", "inet", "198.18.0.11", 16, "global")
    after = dataclasses.replace(before, prefixlen=24)
    assert row_key(before) == row_key(after)
    removed, added, changed, _ = diff_rows([before], [after])
    assert (removed, added) == ((), ()) and changed[0].fields == (("prefixlen", 16, 24),)
    moved = BridgePortRow("virbr1", "vnet0", "forwarding")
    assert row_key(moved) == row_key(dataclasses.replace(moved, bridge="virbr0", state="blocking"))


def test_a_mapping_of_a_known_type_and_an_unknown_recorded_type_get_keys() -> None:
    as_dict = {"_type": "FirewallRow", **dataclasses.asdict(RULE)}
    assert row_key(as_dict) == row_key(RULE)
    odd = {"_type": "GoneRow", "name": "x", "packets": 5}
    assert row_key(odd) == ("GoneRow", "x")
