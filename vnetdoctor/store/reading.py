"""Listing, searching and resolving sessions without loading them.

Split out of the store because ``sessions``, ``--search`` and the ``last~N`` references
are read-only queries over the columns and the FTS index, with their own escaping
rules, and never need the write path.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from collections.abc import Mapping
from typing import Any

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.vocabulary import Verdict
from vnetdoctor.records import (
    FINISHED,
    INTERRUPTED,
    RUNNING,
    SessionSummary,
    document_verdict,
)
from vnetdoctor.store.recording import _proc_start_time, _Recorder

_REF_LAST = re.compile(r"^last(?:~(\d+))?$")


class _Reader(_Recorder):
    """The listing side of :class:`~vnetdoctor.store.SessionStore`."""

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

    def schema_version(self) -> int:
        with self._lock:
            return self._schema_version()


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
