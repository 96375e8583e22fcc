"""The session store: every diagnosis session, step by step, in one SQLite file.

Why SQLite (through sqlite-utils) and why this shape:

- A session is written *while* it runs: each step is committed the moment it is
  recorded, in WAL mode, so a crash, a ``kill -9`` or a closed SSH session leaves
  every completed step on disk. A session that never reached ``finish_session`` is
  listed as *interrupted* (or *running* while its process is still alive).
- Several recorders share one file (eight ``diagnose`` runs from a fleet script and
  a TUI at once). Every write takes the write lock up front (``BEGIN IMMEDIATE``):
  a transaction that read first and upgraded later would fail at once with
  ``SQLITE_BUSY`` whenever another writer committed in between, which the busy
  timeout does not cover. Waiting for the lock is covered: the busy timeout, then
  a bounded number of retries with jitter, then :class:`StoreBusy`.
- Sessions name hosts, addresses and firewall rules, and this runs as root: the
  file is created ``0600`` (its directory ``0700``) *before* SQLite opens it, so no
  moment exists, not even after a ``kill -9`` half-way, where it is readable by
  others. SQLite gives ``-wal`` and ``-shm`` the main file's permissions.
- Reading never writes: ``sessions``, ``export``, ``replay`` and ``diff`` open the
  file with ``readonly=True`` (``mode=ro``; ``immutable=1`` when the directory is
  not writable and SQLite could not otherwise read a WAL file), so they never
  switch its journal mode, create a schema or migrate it.
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
import pwd
import random
import re
import secrets
import socket
import sqlite3
import stat
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.knowledge.model import Diagnosis, Request, StepResult
from vnetdoctor.probes.vocabulary import Verdict
from vnetdoctor.records import (
    FINISHED,
    INTERRUPTED,
    RUNNING,
    RecordedEvent,
    RecordedSession,
    SessionSummary,
    document_verdict,
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
    "StoreBusy",
    "default_db_path",
    "record_from_json",
]

SCHEMA_VERSION = 1
APP_ID = "vnetdoctor.sessions"

# How long one attempt waits for another writer's lock (SQLite's busy handler), and
# how many attempts a write makes before giving up. A recorder's transaction lasts
# milliseconds, so 8 concurrent writers never come near this; a process that holds
# the lock for half a minute (a stuck tool, an open `BEGIN` in a sqlite3 shell) does.
BUSY_TIMEOUT = 5.0
WRITE_ATTEMPTS = 6
_SIDE_FILES = ("-wal", "-shm", "-journal")

_REF_LAST = re.compile(r"^last(?:~(\d+))?$")
_T = TypeVar("_T")


class StoreBusy(UsageError):
    """Another process kept the write lock past every attempt: nothing of this write was kept.

    A :class:`UsageError` (one line, exit 2) where nobody catches it; the TUI's
    recorder catches it, keeps the step in memory and tries again later.
    """


def _account_home(uid: int) -> Path:
    """The home directory of ``uid`` from the passwd database (not from ``$HOME``)."""
    return Path(pwd.getpwuid(uid).pw_dir)


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/vnetdoctor/sessions.db``, never in another user's home when root.

    XDG says: ignore a relative ``$XDG_DATA_HOME``. Under ``sudo -E`` (or a sudo that
    keeps ``$HOME``) root would otherwise create root-owned directories in the
    invoking user's home, which that user then cannot remove or write. So root
    keeps its sessions in its own data directory (from root's passwd entry) when the
    environment points into a tree owned by someone else; ``--db`` still goes anywhere.
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    home = os.environ.get("HOME") or str(_account_home(os.geteuid()))
    root = Path(base) if base and os.path.isabs(base) else Path(home) / ".local" / "share"
    euid = os.geteuid()
    if euid == 0:
        try:
            owner = _nearest_existing(root).stat().st_uid
        except OSError:
            owner = euid
        if owner != euid:
            root = _account_home(euid) / ".local" / "share"
    return root / "vnetdoctor" / "sessions.db"


def _make_private_dirs(directory: Path) -> None:
    """Create the missing directories of ``directory``, each ``0700`` whatever the umask.

    ``Path.mkdir(parents=True, mode=…)`` gives the parents the umask's default
    mode; these hold nothing but session data, so every one created here is
    private. Directories that already exist are left as they are (not ours).
    """
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            os.mkdir(candidate, 0o700)  # the umask can only take bits away from 0700
        except FileExistsError:
            continue  # another recorder made it first
        os.chmod(candidate, 0o700)  # …and a umask like 0277 would leave it unusable


def _create_private_file(path: Path) -> None:
    """Create ``path`` empty and ``0600`` unless it exists; SQLite then only opens it.

    ``O_EXCL`` makes the creation atomic against other recorders; the mode passed
    to ``open`` can only lose bits to the umask, so no instant exists where the file
    is readable by others, and ``fchmod`` makes it exactly 0600 whatever the umask.
    SQLite fills an empty file as a new database and gives ``-wal``/``-shm`` this
    file's mode, so they are private too.
    """
    _make_private_dirs(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _tighten(path: Path) -> None:
    """Make an existing store of ours (and its side files) 0600: older versions left 0644."""
    euid = os.geteuid()
    for name in ("", *_SIDE_FILES):
        target = Path(f"{path}{name}")
        try:
            st = os.stat(target, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_uid == euid and st.st_mode & 0o077:
            try:
                os.chmod(target, 0o600, follow_symlinks=False)
            except OSError:
                pass  # not fatal: recording still works, as private as it was before


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{urllib.parse.quote(str(path))}?{query}"


def _is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection has the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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


class SessionStore:
    """Record, list, search and load diagnosis sessions in one SQLite file.

    Safe to share between the threads of one process (a lock serialises use of the
    single connection) and between processes (WAL, ``BEGIN IMMEDIATE``, a busy
    timeout and bounded retries). ``readonly=True`` opens an existing file for
    reading only and guarantees its bytes do not change.

    Every write goes through :meth:`_write`, one transaction that holds the write
    lock from its first statement; public writers (``start_session``,
    ``record_step``, ``record_event``, ``finish_session``) are each one such
    transaction, so a new writer (e.g. marking a session interrupted) is a method
    calling ``self._write(body)``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
        busy_timeout: float = BUSY_TIMEOUT,
        write_attempts: int = WRITE_ATTEMPTS,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self.write_attempts = max(1, write_attempts)
        self._lock = threading.RLock()
        self._fts = False
        try:
            is_dir, exists = self.path.is_dir(), self.path.exists()
        except OSError as exc:  # a directory on the way we may not enter
            raise UsageError(f"cannot open session database {self.path}: {exc.strerror or exc}") from None
        if is_dir:
            raise UsageError(f"cannot open session database {self.path}: it is a directory")
        if not exists and (readonly or not create):
            raise UsageError(f"no session database at {self.path} (nothing recorded yet?)")
        if readonly:
            self._conn = self._connect_readonly()
        else:
            self._conn = self._connect_for_writing()
        try:
            self._open()
        except UsageError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise UsageError(f"cannot read session database {self.path}: {exc}") from None

    # -- opening and schema -------------------------------------------------------

    def _connect(self, uri: str) -> sqlite3.Connection:
        # isolation_level=None: Python never opens a (deferred) transaction behind our
        # back; _write issues BEGIN IMMEDIATE itself. check_same_thread=False: the TUI
        # records from a worker thread; self._lock serialises use of the connection.
        try:
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise UsageError(f"cannot open session database {self.path}: {exc}") from None
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return conn

    def _connect_for_writing(self) -> sqlite3.Connection:
        real = Path(os.path.realpath(self.path))  # a symlinked store: create its target, privately
        try:
            _create_private_file(real)
        except OSError as exc:
            raise UsageError(f"cannot create {real}: {exc.strerror or exc}") from None
        _tighten(real)
        # mode=rw: SQLite must never create the file itself (it would be 0644).
        return self._connect(_uri(real, mode="rw"))

    def _connect_readonly(self) -> sqlite3.Connection:
        """``mode=ro``; in a directory we cannot write, ``immutable=1`` if that fails.

        A WAL database needs its ``-shm`` index: with ``mode=ro`` SQLite creates
        it (and an empty ``-wal``) when missing, which a read-only directory
        forbids. There ``immutable=1`` reads the main file alone, which is complete
        when no ``-wal`` is left (the last writer checkpointed it on close); when a
        ``-wal`` and ``-shm`` are there, ``mode=ro`` reads through them.
        """
        conn = self._connect(_uri(self.path, mode="ro"))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            if not isinstance(exc, sqlite3.OperationalError) or os.access(self.path.parent, os.W_OK):
                return conn  # not a database, or damaged: _open reports it as one line
            conn.close()
        return self._connect(_uri(self.path, mode="ro", immutable="1"))

    def _open(self) -> None:
        import sqlite_utils

        self._db = sqlite_utils.Database(self._conn)
        tables = set(self._db.table_names())  # the first read: a non-database file fails here
        self._check_tables(tables)
        if not self.readonly:
            self._use_wal()
            self._conn.execute("PRAGMA foreign_keys=ON")
            if "meta" not in tables or self._schema_version() < SCHEMA_VERSION:
                self._write(self._create_or_migrate)
        self._fts = "steps_fts" in self._db.table_names()

    def _check_tables(self, tables: set[str]) -> None:
        """Refuse a file that is not ours, or from a newer vnetdoctor, before changing anything."""
        if not tables:
            if self.readonly:
                raise UsageError(f"{self.path} is not a session database (it is empty)")
            return  # a new (or never finished) store: _create_or_migrate fills it
        if "meta" not in tables:
            raise UsageError(
                f"{self.path} is not a session database (an SQLite file of something else)"
            )
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise UsageError(
                f"{self.path} has session schema {version}, newer than this vnetdoctor "
                f"understands ({SCHEMA_VERSION}): upgrade vnetdoctor"
            )
        if version < SCHEMA_VERSION and self.readonly:
            raise UsageError(
                f"{self.path} has session schema {version}; record a session into it once "
                f"to upgrade it (reading never changes the file)"
            )

    def _use_wal(self) -> None:
        """Switch to WAL once (readers never block the writer); bounded retries under contention."""
        for attempt in range(self.write_attempts):
            try:
                mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    return  # a file system without shared memory: stay in rollback mode
                self._backoff(attempt)
        # Still busy: recording works in the current journal mode; a later open switches.

    def _schema_version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        try:
            return int(row[0]) if row else 0
        except (TypeError, ValueError):
            return 0

    def _create_or_migrate(self) -> None:
        """Inside the write lock: look again (another recorder may have done it), then act."""
        tables = set(self._db.table_names())
        self._check_tables(tables)
        if "meta" not in tables:
            self._create_schema()
            return
        version = self._schema_version()
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        """Bring an older layout up to date (there is only schema 1 so far)."""
        raise UsageError(f"{self.path} has an unknown session schema {version}")

    def _create_schema(self) -> None:
        db = self._db
        db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db.table("sessions").create(
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
        db.table("steps").create(
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
        db.table("causes").create(
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
        db.table("packets").create(
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
        db.table("events").create(
            {"session_id": str, "seq": int, "time": float, "kind": str, "detail": str},
            pk=("session_id", "seq"),
            foreign_keys=[("session_id", "sessions", "id")],
            if_not_exists=True,
        )
        db.table("sessions").create_index(["started"], if_not_exists=True)
        db.table("causes").create_index(["session_id"], if_not_exists=True)
        db.table("causes").create_index(["cause"], if_not_exists=True)
        db.table("packets").create_index(["session_id", "time"], if_not_exists=True)
        db.table("meta").insert_all(
            [
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "application", "value": APP_ID},
                {"key": "created", "value": iso(time.time()) or ""},
            ],
            replace=True,
        )
        # Triggers keep the index in step with the tables; FTS5 may be missing in odd
        # builds. A savepoint keeps a half-made index out of the schema in that case.
        self._conn.execute("SAVEPOINT fts")
        try:
            db.table("sessions").enable_fts(
                ["id", "target", "host", "guest", "scenario", "source", "causes"],
                create_triggers=True,
            )
            db.table("steps").enable_fts(
                ["step", "title", "note", "causes", "answer"], create_triggers=True
            )
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise
            self._conn.execute("ROLLBACK TO fts")  # search falls back to LIKE
        self._conn.execute("RELEASE fts")

    # -- the one way to write -------------------------------------------------------

    def _backoff(self, attempt: int) -> None:
        """Sleep a little, more each attempt, with jitter so that waiting writers spread out."""
        time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))

    def _write(self, body: Callable[[], _T]) -> _T:
        """Run ``body`` in one transaction that holds the write lock from its start.

        ``BEGIN IMMEDIATE`` waits (busy timeout) for the lock instead of reading
        first and failing to upgrade later. If the lock is still taken after the
        timeout, the attempt is rolled back and made again after a jittered pause,
        at most ``write_attempts`` times; then :class:`StoreBusy`. Nested calls
        (``finish_session`` recording a missed step) join the open transaction.
        """
        if self.readonly:
            raise UsageError(f"{self.path} is open read-only: nothing can be recorded")
        with self._lock:
            if self._conn.in_transaction:
                return body()
            last: sqlite3.OperationalError | None = None
            for attempt in range(self.write_attempts):
                if attempt:
                    self._backoff(attempt - 1)
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
                    last = exc
                    continue
                try:
                    result = body()
                    self._conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    self._rollback()
                    if not _is_busy(exc):
                        raise
                    last = exc
                    continue
                except BaseException:
                    self._rollback()
                    raise
                return result
            waited = self.write_attempts * self.busy_timeout
            raise StoreBusy(
                f"session database {self.path} is busy: another process held its write lock "
                f"for over {waited:.0f} s ({last})"
            )

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error already ended the transaction

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
            raise UsageError(f"no session {session_id!r} in {self.path}")

    def record_step(self, session_id: str, step: StepResult) -> None:
        """Store one step with its observations, findings and frames; committed before returning."""
        self._write(lambda: self._insert_step(session_id, step))

    def _insert_step(self, session_id: str, step: StepResult) -> None:
        """The rows of one step (inside a write transaction)."""
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
        if step.findings:
            self._db.table("causes").insert_all(
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
                {"session_id": session_id, "seq": seq, "time": time.time(), "kind": kind,
                 "detail": text}
            )

        self._write(body)

    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None:
        """Store the verdict, in one transaction with the steps of it that were never recorded."""
        doc = diagnosis.to_json(session_id)
        doc.pop("steps", None)
        try:
            extra = json.loads(_json(dict(diagnosis.extra)))
        except (TypeError, ValueError):
            extra = {}

        def body() -> None:
            self._require(session_id)
            recorded: dict[str, int] = {}
            for (name,) in self._conn.execute(
                "SELECT step FROM steps WHERE session_id=? ORDER BY seq", (session_id,)
            ).fetchall():
                recorded[name] = recorded.get(name, 0) + 1
            for step in diagnosis.steps:
                if recorded.get(step.step, 0) > 0:
                    recorded[step.step] -= 1
                else:
                    self._insert_step(session_id, step)
            self._conn.execute("DELETE FROM causes WHERE session_id=? AND final=1", (session_id,))
            if diagnosis.causes:
                self._db.table("causes").insert_all(
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
                    verdict=_row_verdict(r),
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


def _row_verdict(row: Mapping[str, Any]) -> Verdict:
    """A listed session's verdict, from its stored diagnosis by the one rule (records.py)."""
    if row["finished"] is None:
        return Verdict.NOT_RUN
    try:
        doc = json.loads(row["diagnosis"] or "null")
    except ValueError:
        doc = None
    if not isinstance(doc, Mapping):  # finished but its document unreadable: what the columns say
        reachable = None if row["reachable"] is None else bool(row["reachable"])
        doc = {"reachable": reachable, "causes": [{"id": c} for c in (row["causes"] or "").split()]}
    return document_verdict(doc)


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
