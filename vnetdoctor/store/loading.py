"""Loading one recorded session back into the objects the engine emitted.

Split out of the store because rebuilding a :class:`RecordedSession` (steps, their
frames put back, events, the diagnosis) is what replay, export and diff depend on,
and it must stay the exact inverse of the recording path.
"""

from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Iterable, Iterator
from typing import Any

from vnetdoctor.convert import (
    FIELD_COLUMNS,
    PACKET_COLUMNS,
    extra_from_json,
    packet_from_columns,
    packet_row_from_columns,
    put_frames_back,
    step_from_json,
)
from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.records import (
    RecordedEvent,
    RecordedSession,
)
from vnetdoctor.store.reading import _Reader


def _packets_in_place(have: set[str]) -> str:
    """The query of a session's frames in recorded order: PACKET_COLUMNS, then FIELD_COLUMNS.

    A store of schema 1 opened read-only has no field columns: NULL stands in for them
    and the converter derives the fields from the summary.
    """
    fields = [name if name in have else "NULL" for name in FIELD_COLUMNS]
    return ("SELECT step_seq, obs_index, row_index, " + ", ".join((*PACKET_COLUMNS, *fields))
            + " FROM packets WHERE session_id=? ORDER BY step_seq, obs_index, row_index")


def _frames_by_step(pkt_rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[int, int, PacketRow]]]:
    """Stored frames by step seq as ``(obs_index, row_index, PacketRow)``, in row order."""
    frames: dict[int, list[tuple[int, int, PacketRow]]] = {}
    for seq, oi, ri, *columns in pkt_rows:
        frames.setdefault(seq, []).append((oi, ri, packet_row_from_columns(*columns)))
    return frames


class _Loader(_Reader):
    """The loading side of :class:`~vnetdoctor.store.SessionStore`."""

    _packets_query: str | None = None

    def _packets_sql(self) -> str:
        """:func:`_packets_in_place` for this file's packets table (looked up once; call under the lock)."""
        if self._packets_query is None:
            have = {row[1] for row in self._conn.execute("PRAGMA table_info(packets)")}
            self._packets_query = _packets_in_place(have)
        return self._packets_query

    def load(self, session_id: str, *, with_packets: bool = True) -> RecordedSession:
        """Rebuild a session: request, StepResults (frames put back in place), events, verdict.

        ``with_packets=False`` leaves the captured frames in the table (a streamed
        export puts them back one at a time, see :meth:`iter_packet_slots`).
        """
        with self._lock:
            cur = self._conn.execute("SELECT * FROM sessions WHERE id=?", (session_id,))
            names = [d[0] for d in cur.description]
            raw = cur.fetchone()
            if raw is None:
                raise UsageError(tr("cli.no_session_in", id=repr(session_id), db=str(self.path)))
            srow = dict(zip(names, raw))
            steps_rows = self._conn.execute(
                "SELECT seq, json, recorded FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            ).fetchall()
            # Rows built as the cursor gives them (not fetched whole first): 100k fetched tuples
            # would hold every column's text at once, ~60 MiB more at the peak.
            frames = _frames_by_step(self._conn.execute(self._packets_sql(), (session_id,))) if with_packets else {}
            ev_rows = self._conn.execute(
                "SELECT seq, time, kind, detail FROM events WHERE session_id=? ORDER BY seq",
                (session_id,),
            ).fetchall()
        steps = [step_from_json(put_frames_back(json.loads(text), frames.get(seq, ()))) for seq, text, _ in steps_rows]
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
            extra=extra_from_json(json.loads(srow["extra"]) if srow["extra"] else {}),
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
        screen: 100k frames cost most of a second to read and rebuild. The steps are
        rebuilt from their stored JSON the way :meth:`load` rebuilds them.
        """
        if not recorded.frames_left_out:
            return recorded
        with self._lock:
            steps_rows = self._conn.execute(
                "SELECT seq, json FROM steps WHERE session_id=? ORDER BY seq", (recorded.id,)
            ).fetchall()
            frames = _frames_by_step(self._conn.execute(self._packets_sql(), (recorded.id,)))
        steps = tuple(step_from_json(put_frames_back(json.loads(text), frames.get(seq, ())))
                      for seq, text in steps_rows)
        return replace(recorded, steps=steps, frames_left_out=())

    def request_of(self, session_id: str) -> Request:
        """What a session asked, without loading its steps (export needs the sides, not the walk)."""
        with self._lock:
            row = self._conn.execute("SELECT request FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise UsageError(tr("cli.no_session_in", id=repr(session_id), db=str(self.path)))
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
            cur = self._conn.execute(self._packets_sql(), (session_id,))
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                for seq, oi, ri, *columns in chunk:
                    yield seq, oi, ri, packet_from_columns(*columns)

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
