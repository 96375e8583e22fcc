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

from vnetdoctor.knowledge.text import tr
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
from vnetdoctor.store.searching import Match, like_escape as _like_escape, rank_sessions

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

    def sessions(self, search: str | None = None, limit: int | None = 200) -> list[SessionSummary]:
        """Newest first, or best match first with ``search`` (see :mod:`.searching`); ``limit`` None: all."""
        return self.listing(search, limit)[0]

    def listing(self, search: str | None = None, limit: int | None = 200) -> tuple[list[SessionSummary], int]:
        """``(sessions, total)``: a page of the list and how many there are, so a cut list can say so.

        Without ``search`` the page is cut in SQL (10,000 sessions cost one page); with
        it every match is ranked first — cause, target or vantage, scenario, the
        operator's own words, and step notes last — then newest first within a rank.
        """
        matches: dict[str, Match] | None = None
        with self._lock:
            if search and search.strip():
                matches = rank_sessions(self._conn, search.strip(), _fts_query(search), self._fts)
                if not matches:
                    return [], 0
                ids = sorted(matches)
                where, params, cut = f"WHERE s.id IN ({','.join('?' * len(ids))})", ids, ""
                total = len(ids)
            else:
                total = self._conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
                where, params = "", []
                cut = "LIMIT ?" if limit is not None else ""
                if limit is not None:
                    params = [int(limit)]
            cur = self._conn.execute(
                f"""SELECT s.*, (SELECT COUNT(*) FROM steps t WHERE t.session_id = s.id) AS nsteps
                    FROM sessions s {where} ORDER BY s.started DESC, s.id DESC {cut}""",
                params,
            )
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            if matches is not None:
                rows.sort(key=lambda r: matches[r["id"]].rank)  # stable: newest first within a rank
                rows = rows if limit is None else rows[: int(limit)]
            listed = [r["id"] for r in rows]
            step_causes = self._step_causes(listed)
            fixes = self._applied_fixes(listed)
        out = []
        for r in rows:
            finished = r["finished"] is not None
            causes = tuple((r["causes"] or "").split()) if finished else tuple(step_causes.get(r["id"], ()))
            verdict = _row_verdict(r)
            fixed_by: tuple[str, ...] = ()
            if finished and r["id"] in fixes and verdict is Verdict.HEALTHY:
                fixed_by = tuple(c for c in step_causes.get(r["id"], ()) if c not in causes)
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
                    state=self._state(r),
                    steps=r["nsteps"],
                    duration_ms=r["duration_ms"],
                    verdict=verdict,
                    match=matches[r["id"]] if matches is not None else None,
                    fixes_applied=tuple(fixes.get(r["id"], ())),
                    fixed_by=fixed_by,
                )
            )
        return out, total

    def _applied_fixes(self, ids: list[str]) -> dict[str, list[str]]:
        """The commands of the fixes applied with success in each session, in order."""
        out: dict[str, list[str]] = {}
        for sid, detail in self._per_session(
            "SELECT session_id, detail FROM events WHERE kind='fix_applied' AND session_id IN ({}) ORDER BY seq", ids
        ):
            try:
                doc = json.loads(detail or "{}")
            except ValueError:
                continue
            if isinstance(doc, Mapping) and doc.get("returncode") == 0 and doc.get("command"):
                out.setdefault(sid, []).append(str(doc["command"]))
        return out

    def _step_causes(self, ids: list[str]) -> dict[str, list[str]]:
        """Cause ids the steps found, first seen first (for unfinished sessions and "fixed by")."""
        out: dict[str, list[str]] = {}
        for sid, cause in self._per_session(
            "SELECT session_id, cause FROM causes WHERE final=0 AND session_id IN ({}) ORDER BY step_seq, rowid", ids
        ):
            if cause not in out.setdefault(sid, []):
                out[sid].append(cause)
        return out

    def _per_session(self, sql: str, ids: list[str]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (its ``IN ({})`` filled with placeholders) for ``ids``, asked in pieces:
        SQLite caps bound parameters (999 in old builds)."""
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows.extend(self._conn.execute(sql.format(",".join("?" * len(chunk))), chunk))
        return rows

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
                        raise UsageError(tr("cli.no_sessions", db=str(self.path)))
                    raise UsageError(tr("cli.too_few_sessions", ref=text, n=back + 1))
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
            raise UsageError(tr("cli.no_session", ref=text))
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
            raise UsageError(tr("cli.ambiguous_session", ref=text, ids=shown))
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
