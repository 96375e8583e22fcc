"""Records made before the structured shapes (store schema 1) still load, replay and export.

Schema 1 wrote a capture's unopened points only into its observation's ``raw``
(``"eth1@netns:…: No such device"``), the verdict's path as ``"side:iface"``
strings, and a frame's direction, protocol, addresses and kind only into its
summary line (its packets table had no columns for them). The record below is written in that shape by hand, straight into SQLite
and as an exported JSON document; both must come back as the structured records
the current version writes, with nothing recorded lost.
"""

from __future__ import annotations

import json
import sqlite3

from tests.unit.support import store_fixtures as F

from vnetdoctor.knowledge.model import Diagnosis
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.knowledge.replay import ReplayEngine
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.probes.vocabulary import Direction, PacketKind
from vnetdoctor.records import record_from_json
from vnetdoctor.store import SCHEMA_VERSION, SessionStore

HOST, GUEST = "netns:vndt-host", "netns:vndt-guest"
OLD_RAW = f"eth1@{GUEST}: No such device; capture: needs CAP_NET_RAW"
OLD_PATH = ["host:br0", "host:vnet0", "guest:eth0"]
FRAME = {"_type": "PacketRow", "time": 1.5, "vantage": HOST, "iface": "br0", "length": 42,
         "summary": "ARP who-has 192.0.2.11 tell 192.0.2.1", "data_hex": "ff" * 42, "linktype": 1, "tag": ""}
OLD_STEP = {
    "id": "symptom.ping", "layer": "symptom", "title": "Ping both ways", "status": "fail",
    "duration_ms": 12.0, "note": "", "answer": "", "findings": [],
    "observations": [{"probe": "capture.path", "vantage": HOST, "status": "ok", "rows": [FRAME],
                      "raw": OLD_RAW, "reason": "", "duration_ms": 3.0,
                      "params": {"filter": "icmp or arp"}, "layer": "datalink"}],
}
EXPECTED_FAILURES = (CaptureFailure(GUEST, "eth1", "No such device"), CaptureFailure("", "", "needs CAP_NET_RAW"))
EXPECTED_PATH = (PathPoint("host", "br0"), PathPoint("host", "vnet0"), PathPoint("guest", "eth0"))
# The frame as the current version reads it: its fields derived from its summary, once, on read.
OLD_FRAME_AS_ROW = PacketRow(1.5, HOST, "br0", 42, FRAME["summary"], "ff" * 42, proto="ARP", src="192.0.2.1",
                             dst="192.0.2.11", kind=PacketKind.WHO_HAS, info="who-has 192.0.2.11")


def _old_store(tmp_path) -> tuple[SessionStore, str]:
    """A store holding one finished session whose step and extra are in schema 1's shape."""
    path = tmp_path / "old.db"
    with SessionStore(path) as store:
        sid = store.start_session(F.request(), source="diagnose")
        store.finish_session(sid, Diagnosis(F.request(), False, duration_ms=5.0))
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO steps (session_id, seq, step, layer, title, status, json) VALUES (?,?,?,?,?,?,?)",
                    (sid, 0, "symptom.ping", "symptom", "Ping both ways", "fail", json.dumps(OLD_STEP)))
        con.execute("UPDATE sessions SET extra=? WHERE id=?", (json.dumps({"path": OLD_PATH}), sid))
    con.close()
    return SessionStore(path, readonly=True), sid


def test_a_schema_1_session_loads_as_structured_records(tmp_path) -> None:
    store, sid = _old_store(tmp_path)
    with store:
        rec = store.load(sid)
    obs = rec.steps[0].observations[0]
    assert obs.raw == OLD_RAW  # what was recorded stays
    assert obs.rows[0] == OLD_FRAME_AS_ROW
    assert tuple(r for r in obs.rows if isinstance(r, CaptureFailure)) == EXPECTED_FAILURES
    assert rec.extra["path"] == EXPECTED_PATH


def test_a_schema_1_session_replays_with_its_path(tmp_path) -> None:
    store, sid = _old_store(tmp_path)
    with store:
        rec = store.load(sid)
    engine = ReplayEngine.from_recorded(rec)
    assert engine.run().steps == rec.steps
    assert [(str(v), i) for v, i in engine.path_points()] == [
        (str(F.request().host), "br0"), (str(F.request().host), "vnet0"), (str(F.request().guest), "eth0")]


def test_an_old_exported_record_loads_the_same_way(tmp_path) -> None:
    store, sid = _old_store(tmp_path)
    with store:
        doc = store.load(sid).to_json()
    doc["steps"] = [OLD_STEP]  # as an export of that time held it
    doc["record"]["extra"] = {"path": OLD_PATH}
    rec = record_from_json(json.loads(json.dumps(doc)))
    rows = rec.steps[0].observations[0].rows
    assert tuple(r for r in rows if isinstance(r, CaptureFailure)) == EXPECTED_FAILURES
    assert rec.extra["path"] == EXPECTED_PATH
    # Written again, it is in the new shape: the next reader finds records, not sentences.
    again = rec.to_json()
    assert again["record"]["extra"]["path"][0] == {"side": "host", "iface": "br0"}
    assert {"_type": "CaptureFailure", "vantage": GUEST, "iface": "eth1", "reason": "No such device"} in (
        again["steps"][0]["observations"][0]["rows"])
    assert again["steps"][0]["observations"][0]["rows"][0]["kind"] == "who-has"


# -- the packets table of schema 1: no columns for the decoded fields ----------------------------

OLD_ECHO = "out ICMP 192.0.2.1 > 192.0.2.11 echo-request id=4242 seq=1 len=84 DF"


def _schema_1_packets_store(tmp_path) -> tuple[object, str]:
    """A store whose packets table is schema 1's: the field columns dropped, the version set back."""
    from vnetdoctor.convert import FIELD_COLUMNS
    from vnetdoctor.knowledge.model import StepResult
    from vnetdoctor.probes.base import Observation

    path = tmp_path / "old-packets.db"
    frame = PacketRow(2.5, HOST, "vnet0", 98, OLD_ECHO, "00" * 98, tag="icmp:4242:1")
    step = StepResult("symptom.ping", "symptom", "Ping both ways", "fail", "", 1.0,
                      (Observation("capture.path", HOST, rows=(frame,), layer="datalink"),))
    with SessionStore(path) as store:
        sid = store.start_session(F.request(), source="diagnose")
        store.record_step(sid, step)
        store.finish_session(sid, Diagnosis(F.request(), False, duration_ms=5.0))
    con = sqlite3.connect(path)
    with con:
        for name in FIELD_COLUMNS:
            con.execute(f"ALTER TABLE packets DROP COLUMN {name}")
        con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    con.close()
    return path, sid


EXPECTED_ECHO = PacketRow(2.5, HOST, "vnet0", 98, OLD_ECHO, "00" * 98, tag="icmp:4242:1", direction=Direction.OUT,
                          proto="ICMP", src="192.0.2.1", dst="192.0.2.11", kind=PacketKind.ECHO_REQUEST,
                          info="echo-request id=4242 seq=1", info_more=" len=84 DF")


def test_a_schema_1_packets_table_reads_read_only_with_its_fields_derived(tmp_path) -> None:
    path, sid = _schema_1_packets_store(tmp_path)
    with SessionStore(path, readonly=True) as store:
        assert store.schema_version() == 1  # reading never changes the file
        rec = store.load(sid)
        slots = list(store.iter_packet_slots(sid))
    assert rec.packets() == [EXPECTED_ECHO]
    assert rec.steps[0].observations[0].rows == (EXPECTED_ECHO,)
    assert slots[0][3]["kind"] == "echo-request" and slots[0][3]["src"] == "192.0.2.1"


def test_a_schema_1_store_is_migrated_when_recorded_into_and_keeps_its_old_frames(tmp_path) -> None:
    path, sid = _schema_1_packets_store(tmp_path)
    with SessionStore(path) as store:  # a recorder opens it: schema 2, the old rows' fields still NULL
        assert store.schema_version() == SCHEMA_VERSION == 2
        rec = store.load(sid)
    assert rec.steps[0].observations[0].rows == (EXPECTED_ECHO,)
    con = sqlite3.connect(path)
    assert con.execute("SELECT summary, kind FROM packets").fetchall() == [(OLD_ECHO, None)]
    con.close()
