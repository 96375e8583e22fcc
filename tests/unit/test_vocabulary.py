"""The domain's words are defined once (probes/vocabulary.py) and every floor uses them.

The layer order used to be spelt out in six modules and ``layer_rank`` in three; they
drifted (one left the platform out, one put it last). These tests read the source tree
so that a second definition fails here, not later as a report in the wrong order.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from vnetdoctor.knowledge import catalog, engine, flowchart
from vnetdoctor.knowledge.text import LAYER_NAMES
from vnetdoctor.probes import base
from vnetdoctor.probes.vocabulary import (
    CAUSE_LAYERS,
    LAYER_ORDER,
    Layer,
    Severity,
    Status,
    Verdict,
    layer_rank,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("probes", "knowledge", "vnetdoctor", "tui")
VOCABULARY = ROOT / "probes" / "vocabulary.py"
LAYER_WORDS = frozenset(str(layer) for layer in Layer)


def _sources() -> list[Path]:
    files = [p for d in SOURCE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 50, files  # the tree itself, not an empty glob
    return files


def _layer_sequences(tree: ast.AST) -> list[int]:
    """Line numbers of tuple/list/set literals naming three or more layers: an order spelt out."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in LAYER_WORDS]
            if len(words) >= 3:
                lines.append(node.lineno)
    return lines


def test_the_layer_order_is_spelt_out_only_in_the_vocabulary() -> None:
    found = {}
    for path in _sources():
        if path == VOCABULARY:
            continue
        lines = _layer_sequences(ast.parse(path.read_text(), str(path)))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def test_layer_rank_and_layer_order_are_defined_only_in_the_vocabulary() -> None:
    defined: list[str] = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in ("layer_rank", "rank"):
                defined.append(f"{path.relative_to(ROOT)}:{node.name}")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                if isinstance(target, ast.Name) and target.id.lstrip("_") in ("LAYER_ORDER", "CAUSE_LAYERS"):
                    defined.append(f"{path.relative_to(ROOT)}:{target.id}")
    assert sorted(defined) == ["probes/vocabulary.py:CAUSE_LAYERS", "probes/vocabulary.py:LAYER_ORDER",
                               "probes/vocabulary.py:layer_rank"]


def test_the_detector_sees_a_spelt_out_order() -> None:
    """The scan above would catch a regression: it flags the very literal it forbids."""
    tree = ast.parse('ORDER = ("symptom", "platform", "physical")\nOTHER = ("ok", "platform")\n')
    assert _layer_sequences(tree) == [1]


def test_every_floor_shares_the_one_order() -> None:
    assert LAYER_ORDER == ("symptom", "platform", "physical", "datalink", "network", "transport", "application")
    assert engine.LAYER_ORDER is LAYER_ORDER and flowchart.LAYER_ORDER is LAYER_ORDER
    assert catalog.CAUSE_LAYERS is CAUSE_LAYERS and base.LAYERS is CAUSE_LAYERS
    assert CAUSE_LAYERS == LAYER_ORDER[1:]
    # every layer has its bilingual name, and so has "any" (kernel.drop_unexplained's)
    assert set(LAYER_NAMES) == {*LAYER_ORDER, "any"} and catalog.CATALOG_LAYERS == (*CAUSE_LAYERS, "any")


def test_layer_rank_follows_the_walk_and_puts_unknown_layers_last() -> None:
    assert [layer_rank(str(layer)) for layer in LAYER_ORDER] == list(range(len(LAYER_ORDER)))
    assert layer_rank("network") < layer_rank("transport")
    assert layer_rank("session") == len(LAYER_ORDER)


def test_members_are_their_strings() -> None:
    """StrEnum keeps JSON, the store and bare-string comparisons working."""
    assert Status.PASS == "pass" and Severity.WARN == "warn" and Layer.DATALINK == "datalink"
    assert json.dumps({"status": Status.FAIL, Layer.NETWORK: Verdict.CAUSE}) == '{"status": "fail", "network": "cause"}'
    assert {str(s) for s in Status} == {"pass", "fail", "warn", "skip", "ask"}


def test_verdict_is_decided_from_reachability_and_severities() -> None:
    assert Verdict.decide(True, ()) is Verdict.HEALTHY
    assert Verdict.decide(False, ["fail"]) is Verdict.CAUSE
    assert Verdict.decide(True, ["warn", "fail"]) is Verdict.CAUSE
    assert Verdict.decide(True, ["warn"]) is Verdict.WARNINGS
    assert Verdict.decide(False, ()) is Verdict.INCONCLUSIVE
    assert Verdict.decide(None, ()) is Verdict.INCONCLUSIVE
    assert Verdict.decide(True, (), finished=False) is Verdict.NOT_RUN


def test_exit_status_follows_cli_md() -> None:
    assert {v: v.exit_status for v in Verdict} == {
        Verdict.HEALTHY: 0, Verdict.CAUSE: 1, Verdict.WARNINGS: 1, Verdict.INCONCLUSIVE: 3, Verdict.NOT_RUN: 3,
    }
