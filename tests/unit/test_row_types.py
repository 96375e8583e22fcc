"""The row registry and the converter: every row type listed once, every one comes back as itself.

A recorded row carries its type's name; a type missing from the registry would load
as a dict and every reader that asks ``isinstance`` would silently skip it. These
tests build one instance of every registered row type from its annotations, record it
through the real store, load it back and compare objects.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import pkgutil
import types
import typing
from typing import Any

import pytest
from tests.unit.support import store_fixtures as F

import vnetdoctor.probes as probes_pkg
from vnetdoctor.convert import extra_from_json, extra_to_json, step_from_json
from vnetdoctor.knowledge.model import PASS, StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.base import Observation, row_from_dict, row_to_dict
from vnetdoctor.probes.row_types import BY_KIND, ROW_TYPES, from_json
from vnetdoctor.probes.rowkey import ROW_CLASSES
from vnetdoctor.records import record_from_json
from vnetdoctor.store import SessionStore


def _every_probe_module() -> None:
    for info in pkgutil.iter_modules(probes_pkg.__path__):
        importlib.import_module(f"{probes_pkg.__name__}.{info.name}")


def test_every_row_type_the_probes_define_is_listed_once() -> None:
    _every_probe_module()  # the test may scan; the product never does
    defined = {name: cls for name, cls in ROW_CLASSES.items() if cls.__module__.startswith("vnetdoctor.probes.")}
    assert set(defined) == set(BY_KIND), "list new row types in probes/row_types.py"
    assert len(ROW_TYPES) == len(BY_KIND)  # no name twice
    assert all(BY_KIND[name] is cls for name, cls in defined.items())


def _sample(hint: Any, n: int) -> Any:
    """A value of the annotated type, different per field (``n``), never a default."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in typing.get_args(hint) if a is not type(None)), n)
    if origin is tuple:
        return (_sample(typing.get_args(hint)[0], n), _sample(typing.get_args(hint)[0], n + 1))
    if origin in (dict, typing.Mapping) or typing.get_origin(hint) is not None and "Mapping" in str(hint):
        return {f"k{n}": f"v{n}"}
    if dataclasses.is_dataclass(hint):  # a value nested in a row (a kernel.drops row's devices)
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: _sample(hints[f.name], n + i) for i, f in enumerate(dataclasses.fields(hint))})
    if isinstance(hint, type) and issubclass(hint, enum.Enum):  # a domain word (a packet's direction, kind)
        members = list(hint)
        return members[n % len(members)]
    return {str: f"s{n}", int: 100 + n, float: 1.5 + n, bool: n % 2 == 0}[hint]


def _instance(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _sample(hints[f.name], i) for i, f in enumerate(dataclasses.fields(cls))})


@pytest.mark.parametrize("cls", ROW_TYPES, ids=lambda c: c.__name__)
def test_each_row_type_round_trips_through_json(cls: type) -> None:
    row = _instance(cls)
    back = row_from_dict(json.loads(json.dumps(row_to_dict(row))))
    assert type(back) is cls and back == row


def test_every_row_type_round_trips_through_the_store(tmp_path) -> None:
    rows = tuple(_instance(cls) for cls in ROW_TYPES)
    obs = Observation("capture.path", "netns:vndt-host", rows=rows, raw="listened on br0@netns:vndt-host")
    step = StepResult("symptom.ping", "symptom", "Ping both ways", PASS, observations=(obs,))
    with SessionStore(tmp_path / "s.db") as store:
        sid = store.start_session(F.request(), source="diagnose")
        store.record_step(sid, step)
        loaded = store.load(sid).steps[0].observations[0].rows
    # Frames go to their own table and come back in place: the same objects, in the same order.
    assert [type(r) for r in loaded] == list(ROW_TYPES)
    assert loaded == rows


def test_the_path_is_stored_as_records_and_read_back_as_path_points() -> None:
    extra = {"path": (PathPoint("host", "br0"), PathPoint("guest", "eth0")), "other": 1}
    stored = json.loads(json.dumps(extra_to_json(extra)))
    assert stored["path"] == [{"side": "host", "iface": "br0"}, {"side": "guest", "iface": "eth0"}]
    assert extra_from_json(stored) == extra
    assert from_json(PathPoint, {"side": "host", "iface": "x", "newer": 1}) == PathPoint("host", "x")


def test_an_exported_record_rebuilds_the_same_objects(tmp_path) -> None:
    with SessionStore(tmp_path / "s.db") as store:
        rec = store.load(F.record(store))
    back = record_from_json(json.loads(json.dumps(rec.to_json())))
    assert back.steps == rec.steps and back.extra == rec.extra
    assert back.extra["path"] == (PathPoint("host", "vnet0"), PathPoint("host", "br0"))


def test_a_step_of_an_unknown_row_type_keeps_it_as_it_was_read() -> None:
    data = {"id": "x", "layer": "symptom", "title": "x", "status": "pass", "observations": [
        {"probe": "p", "vantage": "local", "rows": [{"_type": "RowOfTheFuture", "a": 1}]}]}
    assert step_from_json(data).observations[0].rows == ({"a": 1},)


def test_the_probe_tag_is_written_and_read_by_one_codec() -> None:
    from vnetdoctor.probes.frame_summary import summarize
    from vnetdoctor.probes.probe_tag import ProbeTag

    icmp = ProbeTag.icmp(4242, 7)
    assert str(icmp) == "icmp:4242:7" and ProbeTag.read(str(icmp)) == icmp
    assert (icmp.ident, icmp.seq, icmp.flow) == ("4242", "7", "icmp:4242") and icmp.of_ping(4242)
    assert not icmp.of_ping(424) and ProbeTag.read("") is None
    arp = ProbeTag.read("arp:192.0.2.11")
    assert arp == ProbeTag("arp", ("192.0.2.11",)) and arp.flow == "arp:192.0.2.11" and arp.ident == ""
    # The capture writes what the codec reads: an echo request to 192.0.2.11, id 5, seq 2.
    frame = bytes.fromhex(
        "020000000002" "020000000001" "0800"
        "45000054000040004001" "0000" "c0000201" "c000020b"
        "0800" "0000" "0005" "0002") + bytes(56)
    summary, tag = summarize(frame)
    assert "echo-request" in summary and ProbeTag.read(tag) == ProbeTag.icmp(5, 2)
