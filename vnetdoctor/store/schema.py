"""Opening the connection and creating, checking or migrating the schema.

Split out of the store so what a session file *is* (its tables, ``meta.schema_version``,
WAL, FTS5 where available) and the read-only opening rules sit together, apart from
the code that records into or reads from a file already known to be good.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from vnetdoctor.convert import FIELD_TYPES
from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.records import iso
from vnetdoctor.store.files import _create_private_file, _tighten, _uri
from vnetdoctor.store.writing import _is_busy, _WriteLock

SCHEMA_VERSION = 2
# The oldest layout this vnetdoctor still reads as it is (read-only opening never migrates):
# schema 1 lacks only the packets table's decoded fields (schema 2 added FIELD_TYPES' columns),
# which the loader derives on read.
OLDEST_READABLE = 1
APP_ID = "vnetdoctor.sessions"


class _SchemaStore(_WriteLock):
    """Opens the file (read-write or read-only) and makes sure its schema is one this vnetdoctor knows."""

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
            raise UsageError(tr("cli.db_unopenable", db=str(self.path), error=str(exc))) from None
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return conn

    def _connect_for_writing(self) -> sqlite3.Connection:
        real = Path(os.path.realpath(self.path))  # a symlinked store: create its target, privately
        try:
            _create_private_file(real)
        except OSError as exc:
            raise UsageError(tr("cli.db_cannot_create", db=str(real), error=str(exc.strerror or exc))) from None
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
            if not isinstance(exc, sqlite3.OperationalError) or os.access(
                self.path.parent, os.W_OK
            ):
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
                raise UsageError(tr("cli.db_empty", db=str(self.path)))
            return  # a new (or never finished) store: _create_or_migrate fills it
        if "meta" not in tables:
            raise UsageError(tr("cli.db_foreign", db=str(self.path)))
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise UsageError(tr("cli.db_newer", db=str(self.path), version=version, known=SCHEMA_VERSION))
        if version < OLDEST_READABLE and self.readonly:
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
        """Bring an older layout up to date, inside the write lock.

        1 → 2: the packets table gains the decoded fields' columns, NULL in the rows
        already there (the loader derives those from their summary, see
        :func:`vnetdoctor.convert.packet_row_from_columns`); nothing recorded changes.
        """
        if version != 1:
            raise UsageError(tr("cli.schema_unknown", db=str(self.path), version=version))
        have = {c.name for c in self._db.table("packets").columns}
        for name, kind in FIELD_TYPES.items():
            if name not in have:
                self._db.table("packets").add_column(name, kind)
        self._conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

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
                **FIELD_TYPES,
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
