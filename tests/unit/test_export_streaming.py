"""Streamed exports say exactly what the in-memory ones say, at any capture size.

``export --format json`` and ``--format pcapng`` stream frames from the table so a
100k-frame session costs bounded memory; the risk is a streamed record that
differs from the loaded one (a frame put back at the wrong position, a step
lost). These tests compare the two paths on sessions with mixed rows.
"""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor.exports import export_json, stream_json
from vnetdoctor.knowledge.model import StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.store import SessionStore


def _mixed_step() -> StepResult:
    """Frames interleaved with other rows in one observation, and an observation with no rows."""
    frames = F.frames()
    links = F.links(True).rows
    rows = (frames[0], links[0], frames[1], frames[2], links[1], frames[3])
    return StepResult(
        "capture.mixed", "datalink", "Mixed rows", "pass", "", 3.0,
        (Observation("capture", F.HOST, rows=rows), Observation("links", F.HOST),
         Observation("capture", F.GUEST, rows=tuple(dataclasses.replace(f, vantage=F.GUEST) for f in frames[:2]))),
    )


@pytest.fixture(params=["finished", "mixed", "unfinished", "no-steps"])
def stored(request, tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        if request.param == "finished":
            sid = F.record(st, fixed=False)
        elif request.param == "mixed":
            sid = st.start_session(F.request(), source="diagnose")
            st.record_step(sid, _mixed_step())
            for step in F.steps(fixed=True):
                st.record_step(sid, step)
            st.record_event(sid, "note", {"text": "中文 note"})
            st.finish_session(sid, F.diagnosis(fixed=True))
        elif request.param == "unfinished":
            sid = F.record(st, fixed=False, finish=False)
        else:
            sid = st.start_session(F.request(), source="diagnose")
    return path, sid


def test_streamed_json_is_the_loaded_record(stored):
    path, sid = stored
    with SessionStore(path, readonly=True) as st:
        expected = json.loads(export_json(st.load(sid), redact=False))
        buf = io.BytesIO()
        stream_json(st, sid, buf)
    assert json.loads(buf.getvalue().decode()) == expected


def test_streamed_json_puts_frames_back_between_other_rows(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.start_session(F.request(), source="diagnose")
        st.record_step(sid, _mixed_step())
        buf = io.BytesIO()
        stream_json(st, sid, buf)
    rows = json.loads(buf.getvalue())["steps"][0]["observations"][0]["rows"]
    assert [r["_type"] for r in rows] == ["PacketRow", "LinkRow", "PacketRow", "PacketRow", "LinkRow", "PacketRow"]
    assert [r.get("summary") for r in rows if r["_type"] == "PacketRow"] == [f.summary for f in F.frames()[:4]]


def test_export_to_a_device_writes_into_it_and_never_replaces_it(stored, tmp_path):
    """`-o /dev/null` once renamed a temporary file over /dev/null, replacing the device with a file.

    A FIFO stands in for the device here (nothing on the machine is touched): it must
    still be a FIFO afterwards, with the export read from it.
    """
    import os
    import stat
    import threading

    from vnetdoctor import cli

    path, sid = stored
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert cli.main(["export", sid, "--format", "json", "--db", str(path), "-o", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(got[0].decode())["session_id"] == sid
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.fifo")] == []
