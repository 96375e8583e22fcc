"""Loading one recorded session back into the objects the engine emitted.

Split out of the store because rebuilding a :class:`RecordedSession` (steps, their
frames put back, events, the diagnosis) is what replay, export and diff depend on,
and it must stay the exact inverse of the recording path.
"""

from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Iterator
from typing import Any

from vnetdoctor.knowledge.model import Request, StepResult
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.records import (
    RecordedEvent,
    RecordedSession,
    load_row_types,
)
from vnetdoctor.store.reading import _Reader


_PACKETS_IN_PLACE = (
    "SELECT step_seq, obs_index, row_index, time, vantage, iface, length, linktype, hex, "
    "summary, tag FROM packets WHERE session_id=? ORDER BY step_seq, obs_index, row_index"
)


def _packet_dict(t: float, vantage: str, iface: str, length: int, linktype: int, hexdata: str,
                 summary: str, tag: str) -> dict[str, Any]:
    """A stored frame as the record's row dict (what ``row_to_dict`` made of the PacketRow)."""
    return {"_type": "PacketRow", "time": t, "vantage": vantage, "iface": iface, "length": length,
            "summary": summary, "data_hex": hexdata, "linktype": linktype, "tag": tag}


def _frames(pkt_rows: list[tuple[Any, ...]]) -> dict[tuple[int, int], list[tuple[int, PacketRow]]]:
    """Stored frames by (step seq, observation index), as PacketRows with their row index.

    Rebuilt as PacketRows here, not as dicts through the row registry: at 100k frames
    the generic path cost over a second of a replay's start.
    """
    frames: dict[tuple[int, int], list[tuple[int, PacketRow]]] = {}
    for seq, oi, ri, t, vantage, iface, length, linktype, hexdata, summary, tag in pkt_rows:
        frames.setdefault((seq, oi), []).append((ri, PacketRow(
            time=t, vantage=vantage, iface=iface, length=length, summary=summary, data_hex=hexdata,
            linktype=1 if linktype is None else linktype, tag=tag or "")))
    return frames


def _with_frames(seq: int, step: StepResult, frames: dict[tuple[int, int], list[tuple[int, PacketRow]]]) -> StepResult:
    """``step`` with its stored frames put back where they were in each observation's rows."""
    if not any((seq, oi) in frames for oi in range(len(step.observations))):
        return step
    observations = list(step.observations)
    for oi, obs in enumerate(observations):
        put = frames.get((seq, oi))
        if put:
            rows = list(obs.rows)
            for ri, row in put:
                rows.insert(min(ri, len(rows)), row)
            observations[oi] = replace(obs, rows=tuple(rows))
    return replace(step, observations=tuple(observations))


class _Loader(_Reader):
    """The loading side of :class:`~vnetdoctor.store.SessionStore`."""

    def load(self, session_id: str, *, with_packets: bool = True) -> RecordedSession:
        """Rebuild a session: request, StepResults (frames put back in place), events, verdict.

        ``with_packets=False`` leaves the captured frames in the table (a streamed
        export puts them back one at a time, see :meth:`iter_packet_slots`).
        """
        load_row_types()
        with self._lock:
            cur = self._conn.execute("SELECT * FROM sessions WHERE id=?", (session_id,))
            names = [d[0] for d in cur.description]
            raw = cur.fetchone()
            if raw is None:
                raise UsageError(f"no session {session_id!r} in {self.path}")
            srow = dict(zip(names, raw))
            steps_rows = self._conn.execute(
                "SELECT seq, json, recorded FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            ).fetchall()
            pkt_rows = self._conn.execute(_PACKETS_IN_PLACE, (session_id,)).fetchall() if with_packets else []
            ev_rows = self._conn.execute(
                "SELECT seq, time, kind, detail FROM events WHERE session_id=? ORDER BY seq",
                (session_id,),
            ).fetchall()
        frames = _frames(pkt_rows)
        steps = [_with_frames(seq, StepResult.from_dict(json.loads(text)), frames) for seq, text, _ in steps_rows]
        events = tuple(
            RecordedEvent(seq, t, kind, json.loads(detail or "{}"))
            for seq, t, kind, detail in ev_rows
        )
        diagnosis = json.loads(srow["diagnosis"]) if srow["diagnosis"] else None
        return RecordedSession(
            id=srow["id"],
            source=srow["source"],
            scenario=srow["scenario"],
            started=srow["started"],
            finished=srow["finished"],
            state=self._state(srow),
            request=Request.from_dict(json.loads(srow["request"] or "{}")),
            steps=tuple(steps),
            events=events,
            diagnosis=diagnosis,
            extra=json.loads(srow["extra"]) if srow["extra"] else {},
            step_times=tuple(t for *_, t in steps_rows),
            frames_left_out=() if with_packets else self._framed_steps(session_id, [r[0] for r in steps_rows]),
        )

    def _framed_steps(self, session_id: str, seqs: list[int]) -> tuple[int, ...]:
        """Indices (into the loaded steps) of the steps whose frames stayed in the table."""
        with self._lock:
            framed = {r[0] for r in self._conn.execute(
                "SELECT DISTINCT step_seq FROM packets WHERE session_id=?", (session_id,))}
        return tuple(i for i, seq in enumerate(seqs) if seq in framed)

    def with_frames(self, recorded: RecordedSession) -> RecordedSession:
        """``recorded`` (loaded ``with_packets=False``) with its frames put back where they were.

        Replay opens on the steps alone and puts the frames back after its verdict is on
        screen: 100k frames cost most of a second to read and rebuild.
        """
        if not recorded.frames_left_out:
            return recorded
        seqs = self.step_seqs(recorded.id)
        with self._lock:
            frames = _frames(self._conn.execute(_PACKETS_IN_PLACE, (recorded.id,)).fetchall())
        steps = tuple(_with_frames(seq, step, frames) for seq, step in zip(seqs, recorded.steps))
        return replace(recorded, steps=steps, frames_left_out=())

    def request_of(self, session_id: str) -> Request:
        """What a session asked, without loading its steps (export needs the sides, not the walk)."""
        with self._lock:
            row = self._conn.execute("SELECT request FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise UsageError(f"no session {session_id!r} in {self.path}")
        return Request.from_dict(json.loads(row[0] or "{}"))

    def step_seqs(self, session_id: str) -> list[int]:
        """The recorded steps' sequence numbers, in order (the keys frames are stored under)."""
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT seq FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            )]

    def iter_packet_slots(self, session_id: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """``(step_seq, obs_index, row_index, PacketRow dict)`` in recorded order, streamed in batches:
        where each frame goes back into the record, for an export that never holds them all."""
        with self._lock:
            cur = self._conn.execute(_PACKETS_IN_PLACE, (session_id,))
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                for seq, oi, ri, *columns in chunk:
                    yield seq, oi, ri, _packet_dict(*columns)

    def iter_packet_records(self, session_id: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """The session's frames in capture-time order as plain tuples, streamed in batches.

        ``(time, vantage, iface, linktype, hex, length, tag)`` — the pcapng writer's
        record. Why not ``load(...).packets()``: a 100k-frame session rebuilt whole
        costs seconds and hundreds of MB; a capture file needs each frame once, in
        order. Ties in time keep the recorded order (step, observation, row), the
        path order the capture wrote them in.
        """
        with self._lock:
            cur = self._conn.execute(
                "SELECT time, vantage, iface, COALESCE(linktype, 1), COALESCE(hex, ''), COALESCE(length, 0), "
                "COALESCE(tag, '') FROM packets WHERE session_id=? ORDER BY time, step_seq, obs_index, row_index",
                (session_id,),
            )
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                yield from chunk
