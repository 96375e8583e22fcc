"""The session store: every diagnosis session, step by step, in one SQLite file.

Why SQLite (through sqlite-utils) and why this shape:

- A session is written *while* it runs: each step is committed the moment it is
  recorded, in WAL mode, so a crash, a ``kill -9`` or a closed SSH session leaves
  every completed step on disk. A session that never reached ``finish_session`` is
  listed as *interrupted* (or *running* while its process is still alive).
- Steps keep their observations and findings as JSON, which is exactly what
  :meth:`StepResult.to_dict` produces, so :meth:`SessionStore.load` rebuilds the
  same frozen objects the engine emitted and replay can feed them through the live
  rendering path (dolphie's rule: replay fills the same state as live).
- Captured frames (``PacketRow``) are moved out of that JSON into their own table,
  because they are the bulk of a session and ``export --format pcap`` wants them
  in time order without parsing every step.
- Causes get their own table so that ``sessions --search`` and ``diff`` need no
  JSON parsing; step notes and titles are indexed with FTS5 where available.
- ``meta.schema_version`` says which layout a file has, so a later vnetdoctor can
  migrate it and an older one refuses it with one clear line instead of guessing.

What a session is once read back (``RecordedSession``, ``SessionSummary``) lives
in :mod:`vnetdoctor.records` and is re-exported here. Nothing here imports
Textual (the TUI, the CLI and the tests all use this module).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from vnetdoctor.errors import UsageError
from vnetdoctor.knowledge.model import Diagnosis, Request, StepResult
from vnetdoctor.records import (
    FINISHED,
    INTERRUPTED,
    RUNNING,
    RecordedEvent,
    RecordedSession,
    SessionSummary,
    iso,
    load_row_types,
    record_from_json,
    step_json,
)

__all__ = [
    "FINISHED",
    "INTERRUPTED",
    "RUNNING",
    "SCHEMA_VERSION",
    "RecordedEvent",
    "RecordedSession",
    "SessionStore",
    "SessionSummary",
    "default_db_path",
    "record_from_json",
]

SCHEMA_VERSION = 1
APP_ID = "vnetdoctor.sessions"


_REF_LAST = re.compile(r"^last(?:~(\d+))?$")


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/vnetdoctor/sessions.db`` (XDG says: ignore a relative value)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "vnetdoctor" / "sessions.db"


def _proc_start_time(pid: int) -> str | None:
    """The process start time in clock ticks since boot (``/proc/PID/stat`` field 22).

    Together with the PID it names a process uniquely on this boot, so a reused
    PID is never mistaken for the session's writer still running.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    rest = stat.rsplit(")", 1)[-1].split()
    return rest[19] if len(rest) > 19 else None


def _json(value: Any) -> str:
    """Compact JSON; anything not serialisable (a Path, a Vantage) becomes its str()."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class SessionStore:
    """Record, list, search and load diagnosis sessions in one SQLite file.

    Safe to share between the threads of one process (a lock serialises use of the
    single connection) and between processes (WAL and a busy timeout).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.RLock()
        self._fts = False
        existed = self.path.exists()
        if not existed and not create:
            raise UsageError(f"no session database at {self.path} (nothing recorded yet?)")
        if self.path.is_dir():
            raise UsageError(f"cannot open session database {self.path}: it is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UsageError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from None
        try:
            # check_same_thread=False: the TUI records from worker threads; the lock serialises.
            self._conn = sqlite3.connect(str(self.path), timeout=5.0, check_same_thread=False)
        except sqlite3.Error as exc:
            raise UsageError(f"cannot open session database {self.path}: {exc}") from None
        try:
            self._open()
        except UsageError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise UsageError(f"cannot read session database {self.path}: {exc}") from None
        if not existed:
            try:
                os.chmod(self.path, 0o600)  # sessions name hosts, addresses and firewall rules
            except OSError:
                pass

    # -- opening and schema -------------------------------------------------------

    def _open(self) -> None:
        import sqlite_utils

        self._db = sqlite_utils.Database(self._conn)
        tables = set(self._db.table_names())  # the first read: a non-database file fails here
        if tables and "meta" not in tables:
            raise UsageError(f"{self.path} is an SQLite file but not a vnetdoctor session database")
        try:
            self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError:
            pass  # a read-only file or directory: reading still works, in its current mode
        self._conn.execute("PRAGMA foreign_keys=ON")
        if "meta" in tables:
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                raise UsageError(
                    f"{self.path} has session schema {version}, newer than this vnetdoctor "
                    f"understands ({SCHEMA_VERSION}): upgrade vnetdoctor"
                )
            if version < SCHEMA_VERSION:
                self._migrate(version)
        else:
            self._create_schema()
        self._fts = "steps_fts" in self._db.table_names()

    def _schema_version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        try:
            return int(row[0]) if row else 0
        except (TypeError, ValueError):
            return 0

    def _migrate(self, version: int) -> None:
        """Bring an older layout up to date (there is only schema 1 so far)."""
        raise UsageError(f"{self.path} has an unknown session schema {version}")

    def _create_schema(self) -> None:
        db = self._db
        with self._tx():
            db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            db["sessions"].create(
                {
                    "id": str,
                    "started": float,
                    "finished": float,
                    "source": str,
                    "scenario": str,
                    "target": str,
                    "host": str,
                    "guest": str,
                    "from_side": str,
                    "port": int,
                    "lang": str,
                    "request": str,  # JSON: Request.to_dict()
                    "reachable": int,
                    "duration_ms": float,
                    "causes": str,  # space-separated cause ids of the verdict
                    "diagnosis": str,  # JSON: Diagnosis.to_json() without steps
                    "extra": str,  # JSON: Diagnosis.extra
                    "pid": int,
                    "proc_start": str,
                    "hostname": str,
                },
                pk="id",
                not_null={"started", "source", "host"},
                if_not_exists=True,
            )
            db["steps"].create(
                {
                    "session_id": str,
                    "seq": int,
                    "step": str,
                    "layer": str,
                    "title": str,
                    "status": str,
                    "note": str,
                    "answer": str,
                    "duration_ms": float,
                    "causes": str,
                    "recorded": float,
                    "json": str,  # StepResult.to_dict() with PacketRows moved to `packets`
                },
                pk=("session_id", "seq"),
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            db["causes"].create(
                {
                    "session_id": str,
                    "step_seq": int,  # NULL for the verdict's causes
                    "final": int,
                    "cause": str,
                    "layer": str,
                    "severity": str,
                    "summary": str,
                },
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            db["packets"].create(
                {
                    "session_id": str,
                    "step_seq": int,
                    "obs_index": int,
                    "row_index": int,
                    "time": float,
                    "vantage": str,
                    "iface": str,
                    "length": int,
                    "linktype": int,
                    "hex": str,
                    "summary": str,
                    "tag": str,
                },
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            db["events"].create(
                {"session_id": str, "seq": int, "time": float, "kind": str, "detail": str},
                pk=("session_id", "seq"),
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            db["sessions"].create_index(["started"], if_not_exists=True)
            db["causes"].create_index(["session_id"], if_not_exists=True)
            db["causes"].create_index(["cause"], if_not_exists=True)
            db["packets"].create_index(["session_id", "time"], if_not_exists=True)
            db["meta"].insert_all(
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "application", "value": APP_ID},
                    {"key": "created", "value": iso(time.time()) or ""},
                ],
                replace=True,
            )
        try:
            # Triggers keep the index in step with the tables; FTS5 may be missing in odd builds.
            db["sessions"].enable_fts(
                ["id", "target", "host", "guest", "scenario", "source", "causes"],
                create_triggers=True,
            )
            db["steps"].enable_fts(
                ["step", "title", "note", "causes", "answer"], create_triggers=True
            )
        except sqlite3.OperationalError:
            pass  # search falls back to LIKE

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One transaction, committed on exit (sqlite-utils 4 ``atomic``, or the 3.x idiom)."""
        atomic = getattr(self._db, "atomic", None)
        if atomic is not None:
            with atomic():
                yield
        else:  # pragma: no cover - sqlite-utils 3.x
            with self._conn:
                yield

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording ----------------------------------------------------------------

    def start_session(self, request: Request, *, source: str, scenario: str | None = None) -> str:
        """Open a session and return its id: UTC time (sortable) plus 4 random hex digits."""
        req = request.to_dict()
        now = time.time()
        pid = os.getpid()
        with self._lock:
            for _ in range(20):
                stamp = _dt.datetime.fromtimestamp(now, _dt.UTC).strftime("%Y%m%d-%H%M%S")
                session_id = f"{stamp}-{secrets.token_hex(2)}"
                try:
                    with self._tx():
                        self._db["sessions"].insert(
                            {
                                "id": session_id,
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
                        )
                    return session_id
                except sqlite3.IntegrityError:
                    continue  # the same second and the same 4 hex digits: draw again
        raise RuntimeError("could not allocate a session id")

    def _require(self, session_id: str) -> None:
        row = self._conn.execute("SELECT 1 FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise UsageError(f"no session {session_id!r} in {self.path}")

    def record_step(self, session_id: str, step: StepResult) -> None:
        """Store one step with its observations, findings and frames; committed before returning."""
        data = step_json(step)
        packets: list[dict[str, Any]] = []
        for obs_index, obs in enumerate(data["observations"]):
            kept = []
            for row_index, row in enumerate(obs.get("rows", ())):
                if isinstance(row, dict) and row.get("_type") == "PacketRow":
                    packets.append(
                        {
                            "obs_index": obs_index,
                            "row_index": row_index,
                            "time": row.get("time"),
                            "vantage": row.get("vantage"),
                            "iface": row.get("iface"),
                            "length": row.get("length"),
                            "linktype": row.get("linktype", 1),
                            "hex": row.get("data_hex", ""),
                            "summary": row.get("summary", ""),
                            "tag": row.get("tag", ""),
                        }
                    )
                else:
                    kept.append(row)
            obs["rows"] = kept
        causes = [f.cause for f in step.findings]
        with self._lock:
            self._require(session_id)
            with self._tx():
                seq = self._conn.execute(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM steps WHERE session_id=?", (session_id,)
                ).fetchone()[0]
                self._db["steps"].insert(
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
                if step.findings:
                    self._db["causes"].insert_all(
                        {
                            "session_id": session_id,
                            "step_seq": seq,
                            "final": 0,
                            "cause": f.cause,
                            "layer": f.layer,
                            "severity": f.severity,
                            "summary": f.summary,
                        }
                        for f in step.findings
                    )
                if packets:
                    self._db["packets"].insert_all(
                        {"session_id": session_id, "step_seq": seq, **p} for p in packets
                    )

    def record_event(self, session_id: str, kind: str, detail: Mapping[str, Any]) -> None:
        """Store an operator answer, a fix applied (command, undo, result) or a note; committed."""
        with self._lock:
            self._require(session_id)
            with self._tx():
                seq = self._conn.execute(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM events WHERE session_id=?",
                    (session_id,),
                ).fetchone()[0]
                self._db["events"].insert(
                    {
                        "session_id": session_id,
                        "seq": seq,
                        "time": time.time(),
                        "kind": kind,
                        "detail": _json(dict(detail)),
                    }
                )

    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None:
        """Store the verdict. Steps of the diagnosis that were never recorded are recorded now."""
        doc = diagnosis.to_json(session_id)
        doc.pop("steps", None)
        try:
            extra = json.loads(_json(dict(diagnosis.extra)))
        except (TypeError, ValueError):
            extra = {}
        with self._lock:
            self._require(session_id)
            recorded: dict[str, int] = {}
            for (name,) in self._conn.execute(
                "SELECT step FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            ):
                recorded[name] = recorded.get(name, 0) + 1
            for step in diagnosis.steps:
                if recorded.get(step.step, 0) > 0:
                    recorded[step.step] -= 1
                else:
                    self.record_step(session_id, step)
            with self._tx():
                self._conn.execute(
                    "DELETE FROM causes WHERE session_id=? AND final=1", (session_id,)
                )
                if diagnosis.causes:
                    self._db["causes"].insert_all(
                        {
                            "session_id": session_id,
                            "step_seq": None,
                            "final": 1,
                            "cause": f.cause,
                            "layer": f.layer,
                            "severity": f.severity,
                            "summary": f.summary,
                        }
                        for f in diagnosis.causes
                    )
                self._db["sessions"].update(
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

    # -- reading ------------------------------------------------------------------

    def _state(self, row: Mapping[str, Any]) -> str:
        if row["finished"] is not None:
            return FINISHED
        pid, start = row["pid"], row["proc_start"]
        if (
            pid
            and start
            and row["hostname"] == socket.gethostname()
            and _proc_start_time(pid) == start
        ):
            return RUNNING
        return INTERRUPTED

    def sessions(self, search: str | None = None, limit: int = 200) -> list[SessionSummary]:
        """Newest first. ``search`` matches target, vantages, scenario, cause ids, step notes."""
        where, params = "", []
        if search and search.strip():
            ids = self._search_ids(search.strip())
            if not ids:
                return []
            where = f"WHERE s.id IN ({','.join('?' * len(ids))})"
            params = sorted(ids)
        sql = f"""
            SELECT s.*, (SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id) AS nsteps
            FROM sessions s {where}
            ORDER BY s.started DESC, s.id DESC
            LIMIT ?
        """
        with self._lock:
            cur = self._conn.execute(sql, [*params, int(limit)])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            step_causes = self._step_causes([r["id"] for r in rows if r["finished"] is None])
        out = []
        for r in rows:
            state = self._state(r)
            if r["finished"] is not None:
                causes = tuple((r["causes"] or "").split())
            else:
                causes = tuple(step_causes.get(r["id"], ()))
            out.append(
                SessionSummary(
                    id=r["id"],
                    started=r["started"],
                    finished=r["finished"],
                    source=r["source"],
                    scenario=r["scenario"],
                    target=r["target"],
                    host=r["host"],
                    guest=r["guest"],
                    from_side=r["from_side"] or "host",
                    reachable=None if r["reachable"] is None else bool(r["reachable"]),
                    causes=causes,
                    state=state,
                    steps=r["nsteps"],
                    duration_ms=r["duration_ms"],
                )
            )
        return out

    def _step_causes(self, ids: list[str]) -> dict[str, list[str]]:
        if not ids:
            return {}
        out: dict[str, list[str]] = {}
        cur = self._conn.execute(
            f"SELECT session_id, cause FROM causes WHERE final=0 AND session_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY step_seq, rowid",
            ids,
        )
        for sid, cause in cur:
            if cause not in out.setdefault(sid, []):
                out[sid].append(cause)
        return out

    def _search_ids(self, text: str) -> set[str]:
        """Sessions matching ``text``: FTS5 for words in notes, LIKE for fragments of ids and addresses."""
        like = f"%{_like_escape(text)}%"
        ids: set[str] = set()
        with self._lock:
            cur = self._conn.execute(
                r"""SELECT id FROM sessions WHERE
                    id LIKE :q ESCAPE '\' OR target LIKE :q ESCAPE '\' OR host LIKE :q ESCAPE '\'
                    OR guest LIKE :q ESCAPE '\' OR scenario LIKE :q ESCAPE '\'
                    OR source LIKE :q ESCAPE '\'
                UNION SELECT session_id FROM causes WHERE cause LIKE :q ESCAPE '\'""",
                {"q": like},
            )
            ids.update(r[0] for r in cur)
            query = _fts_query(text)
            if self._fts and query:
                try:
                    cur = self._conn.execute(
                        "SELECT s.session_id FROM steps s JOIN steps_fts f ON f.rowid = s.rowid "
                        "WHERE steps_fts MATCH ?",
                        (query,),
                    )
                    ids.update(r[0] for r in cur)
                    cur = self._conn.execute(
                        "SELECT s.id FROM sessions s JOIN sessions_fts f ON f.rowid = s.rowid "
                        "WHERE sessions_fts MATCH ?",
                        (query,),
                    )
                    ids.update(r[0] for r in cur)
                except sqlite3.OperationalError:
                    self._fts = False
            if not self._fts:
                cur = self._conn.execute(
                    r"SELECT session_id FROM steps WHERE note LIKE :q ESCAPE '\' OR title LIKE :q "
                    r"ESCAPE '\' OR step LIKE :q ESCAPE '\' OR answer LIKE :q ESCAPE '\'",
                    {"q": like},
                )
                ids.update(r[0] for r in cur)
        return ids

    def resolve(self, ref: str | None) -> str:
        """A full id, a unique prefix, ``last`` (or None) for the newest, ``last~N`` for older ones."""
        text = (ref or "last").strip()
        with self._lock:
            m = _REF_LAST.match(text)
            if m:
                back = int(m.group(1) or 0)
                row = self._conn.execute(
                    "SELECT id FROM sessions ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?",
                    (back,),
                ).fetchone()
                if row is None:
                    if back == 0:
                        raise UsageError(f"no sessions recorded in {self.path}")
                    raise UsageError(
                        f"there is no session {text!r}: fewer than {back + 1} recorded"
                    )
                return row[0]
            row = self._conn.execute("SELECT id FROM sessions WHERE id=?", (text,)).fetchone()
            if row:
                return row[0]
            matches = [
                r[0]
                for r in self._conn.execute(
                    r"SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\' ORDER BY started DESC LIMIT 6",
                    (_like_escape(text) + "%",),
                )
            ]
        if not matches:
            raise UsageError(f"no session {text!r} (see `vnetdoctor sessions`)")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
            raise UsageError(f"session {text!r} is ambiguous: {shown}")
        return matches[0]

    def load(self, session_id: str) -> RecordedSession:
        """Rebuild a session: request, StepResults (frames put back in place), events, verdict."""
        load_row_types()
        with self._lock:
            cur = self._conn.execute("SELECT * FROM sessions WHERE id=?", (session_id,))
            names = [d[0] for d in cur.description]
            raw = cur.fetchone()
            if raw is None:
                raise UsageError(f"no session {session_id!r} in {self.path}")
            srow = dict(zip(names, raw))
            steps_rows = self._conn.execute(
                "SELECT seq, json FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            ).fetchall()
            pkt_rows = self._conn.execute(
                "SELECT step_seq, obs_index, row_index, time, vantage, iface, length, linktype, hex, "
                "summary, tag FROM packets WHERE session_id=? ORDER BY step_seq, obs_index, row_index",
                (session_id,),
            ).fetchall()
            ev_rows = self._conn.execute(
                "SELECT seq, time, kind, detail FROM events WHERE session_id=? ORDER BY seq",
                (session_id,),
            ).fetchall()
        frames: dict[tuple[int, int], list[tuple[int, dict[str, Any]]]] = {}
        for seq, oi, ri, t, vantage, iface, length, linktype, hexdata, summary, tag in pkt_rows:
            frames.setdefault((seq, oi), []).append(
                (
                    ri,
                    {
                        "_type": "PacketRow",
                        "time": t,
                        "vantage": vantage,
                        "iface": iface,
                        "length": length,
                        "summary": summary,
                        "data_hex": hexdata,
                        "linktype": linktype,
                        "tag": tag,
                    },
                )
            )
        steps = []
        for seq, text in steps_rows:
            data = json.loads(text)
            for oi, obs in enumerate(data.get("observations", ())):
                rows = list(obs.get("rows", ()))
                for ri, prow in frames.get((seq, oi), ()):
                    rows.insert(min(ri, len(rows)), prow)
                obs["rows"] = rows
            steps.append(StepResult.from_dict(data))
        events = tuple(
            RecordedEvent(seq, t, kind, json.loads(detail or "{}"))
            for seq, t, kind, detail in ev_rows
        )
        diagnosis = json.loads(srow["diagnosis"]) if srow["diagnosis"] else None
        if diagnosis is not None:
            diagnosis["steps"] = [s.to_dict() for s in steps]
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
        )

    def schema_version(self) -> int:
        with self._lock:
            return self._schema_version()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_query(text: str) -> str:
    """The operator's words as one FTS5 phrase whose last word may be a prefix.

    Quoting keeps FTS5 syntax (``:``, ``-``, ``AND``) from being interpreted; the
    tokenizer splits ``firewall.guest_blocks`` or ``198.18.0.11`` the same way in
    the query as in the documents, so the phrase matches them.
    """
    words = re.findall(r"\w+", text)
    if not words:
        return ""
    return '"' + " ".join(words) + '"*'
