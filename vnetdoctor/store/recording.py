"""Recording a session while it runs: start, each step, events, the diagnosis, an interruption.

Split out of the store so the write path a live diagnosis takes (each step committed
the moment it is recorded, frames moved to their own table) reads as one piece.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from vnetdoctor.convert import extra_to_json, split_frames
from vnetdoctor.knowledge.model import Diagnosis, Finding, Request, StepResult
from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.records import step_json
from vnetdoctor.store.schema import _SchemaStore


def _proc_start_time(pid: int) -> str | None:
    """The process start time in clock ticks since boot (``/proc/PID/stat`` field 22).

    Together with the PID it names a process uniquely on this boot, so a reused
    PID is never mistaken for the session's writer still running.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat_line = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    rest = stat_line.rsplit(")", 1)[-1].split()
    return rest[19] if len(rest) > 19 else None


def _json(value: Any) -> str:
    """Compact JSON; anything not serialisable (a Path, a Vantage) becomes its str()."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class _Recorder(_SchemaStore):
    """The public writers of :class:`~vnetdoctor.store.SessionStore`, each one :meth:`_write` transaction."""

    def start_session(self, request: Request, *, source: str, scenario: str | None = None) -> str:
        """Open a session and return its id: UTC time (sortable) plus 4 random hex digits."""
        req = request.to_dict()
        now = time.time()
        pid = os.getpid()
        row = {
            "started": now,
            "finished": None,
            "source": source,
            "scenario": scenario,
            "target": req["target"],
            "host": req["host"],
            "guest": req["guest"],
            "from_side": req["from"],
            "port": req["port"],
            "lang": req["lang"],
            "request": _json(req),
            "pid": pid,
            "proc_start": _proc_start_time(pid),
            "hostname": socket.gethostname(),
        }
        stamp = _dt.datetime.fromtimestamp(now, _dt.UTC).strftime("%Y%m%d-%H%M%S")
        for _ in range(20):
            session_id = f"{stamp}-{secrets.token_hex(2)}"

            def insert(sid: str = session_id) -> None:
                self._db.table("sessions").insert({"id": sid, **row})

            try:
                self._write(insert)
            except sqlite3.IntegrityError:
                continue  # the same second and the same 4 hex digits: draw again
            return session_id
        raise RuntimeError("could not allocate a session id")

    def _require(self, session_id: str) -> None:
        row = self._conn.execute("SELECT 1 FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise UsageError(tr("cli.no_session_in", id=repr(session_id), db=str(self.path)))

    def record_step(self, session_id: str, step: StepResult) -> None:
        """Store one step with its observations, findings and frames; committed before returning."""
        self._write(lambda: self._insert_step(session_id, step))

    def _insert_causes(self, session_id: str, step_seq: int | None, findings: Iterable[Finding]) -> None:
        """One row per finding: a step's (``step_seq``), or the verdict's (None: ``final``)."""
        self._db.table("causes").insert_all(
            {
                "session_id": session_id,
                "step_seq": step_seq,
                "final": int(step_seq is None),
                "cause": f.cause,
                "layer": f.layer,
                "severity": f.severity,
                "summary": f.summary,
            }
            for f in findings
        )

    def _insert_step(self, session_id: str, step: StepResult) -> None:
        """The rows of one step (inside a write transaction)."""
        data = step_json(step)
        packets = split_frames(data)
        causes = [f.cause for f in step.findings]
        self._require(session_id)
        seq = self._conn.execute(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM steps WHERE session_id=?", (session_id,)
        ).fetchone()[0]
        self._db.table("steps").insert(
            {
                "session_id": session_id,
                "seq": seq,
                "step": step.step,
                "layer": step.layer,
                "title": step.title,
                "status": step.status,
                "note": step.note,
                "answer": step.answer,
                "duration_ms": step.duration_ms,
                "causes": " ".join(causes),
                "recorded": time.time(),
                "json": _json(data),
            }
        )
        self._insert_causes(session_id, seq, step.findings)
        if packets:
            self._db.table("packets").insert_all(
                {"session_id": session_id, "step_seq": seq, **p} for p in packets
            )

    def record_event(self, session_id: str, kind: str, detail: Mapping[str, Any]) -> None:
        """Store an operator answer, a fix applied (command, undo, result) or a note; committed."""
        text = _json(dict(detail))

        def body() -> None:
            self._require(session_id)
            seq = self._conn.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM events WHERE session_id=?",
                (session_id,),
            ).fetchone()[0]
            self._db.table("events").insert(
                {
                    "session_id": session_id,
                    "seq": seq,
                    "time": time.time(),
                    "kind": kind,
                    "detail": text,
                }
            )

        self._write(body)

    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None:
        """Store the verdict (its causes and the session's summary) in one transaction.

        Only the verdict: every step reached the store through the session's record
        sink as it finished, in order, so nothing is back-filled here (a step missing
        from the record is a recording that failed, and said so on screen or stderr).
        """
        doc = diagnosis.to_json(session_id)
        doc.pop("steps", None)
        try:
            extra = json.loads(_json(extra_to_json(diagnosis.extra)))
        except (TypeError, ValueError):
            extra = {}

        def body() -> None:
            self._require(session_id)
            self._conn.execute("DELETE FROM causes WHERE session_id=? AND final=1", (session_id,))
            self._insert_causes(session_id, None, diagnosis.causes)
            self._db.table("sessions").update(
                session_id,
                {
                    "finished": time.time(),
                    "target": doc.get("target"),
                    "reachable": None
                    if diagnosis.reachable is None
                    else int(bool(diagnosis.reachable)),
                    "duration_ms": diagnosis.duration_ms,
                    "causes": " ".join(f.cause for f in diagnosis.causes),
                    "diagnosis": _json(doc),
                    "extra": _json(extra),
                },
            )

        self._write(body)

    def mark_interrupted(self, session_id: str, reason: str) -> None:
        """A signal (SIGHUP, SIGTERM, SIGINT) ended the session's process: say so in the record.

        An ``interrupted`` event names the reason, and an unfinished session's writer
        pid is cleared so it lists as interrupted at once, not as running while the
        process still cleans up (a demo taking its lab down). A finished session keeps
        its verdict; the event still records how the TUI ended.
        """

        def body() -> None:
            self.record_event(session_id, "interrupted", {"reason": reason})
            self._conn.execute(
                "UPDATE sessions SET pid=NULL, proc_start=NULL WHERE id=? AND finished IS NULL",
                (session_id,),
            )

        self._write(body)
