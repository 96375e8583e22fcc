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

The code is split by concern (``files``, ``writing``, ``schema``, ``recording``,
``reading``, ``loading``, ``core``); this package re-exports the public names so
callers keep importing from :mod:`vnetdoctor.store`.
"""

from __future__ import annotations

from vnetdoctor.records import (
    FINISHED,
    INTERRUPTED,
    RUNNING,
    RecordedEvent,
    RecordedSession,
    SessionSummary,
    record_from_json,
)
from vnetdoctor.store.core import SessionStore
from vnetdoctor.store.files import default_db_path
from vnetdoctor.store.schema import APP_ID, SCHEMA_VERSION
from vnetdoctor.store.writing import BUSY_TIMEOUT, WRITE_ATTEMPTS, StoreBusy

__all__ = [
    "APP_ID",
    "BUSY_TIMEOUT",
    "FINISHED",
    "INTERRUPTED",
    "RUNNING",
    "SCHEMA_VERSION",
    "WRITE_ATTEMPTS",
    "RecordedEvent",
    "RecordedSession",
    "SessionStore",
    "SessionSummary",
    "StoreBusy",
    "default_db_path",
    "record_from_json",
]
