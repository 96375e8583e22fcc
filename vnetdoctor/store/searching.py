"""Ranked session search: what a session is *about* outranks words that happen to be in its notes.

Why ranks: every walk writes step notes such as "not needed: …" or "passed: the
host answers ARP", so a plain full-text match on notes found nearly every session
for nearly every word. An operator searching ``firewall`` or ``198.18.0.11`` wants
the sessions whose cause, target or vantage it is, then those whose operator said
it, and only then the ones that merely mention it in a step note. Each hit says
why it matched, so a low-ranked one is recognisable as such.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from vnetdoctor.records import SearchMatch as Match

CAUSE, PLACE, SCENARIO, OPERATOR, STEP_NOTE = range(5)
SNIPPET = 60


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def snippet(text: str, needle: str, width: int = SNIPPET) -> str:
    """``width`` characters of ``text`` around the first ``needle`` (case-insensitive), on one line."""
    flat = " ".join(str(text).split())
    at = flat.casefold().find(needle.casefold())
    if len(flat) <= width:
        return flat
    start = max(0, min(at - width // 3, len(flat) - width)) if at >= 0 else 0
    cut = flat[start : start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(flat) else "")


class Ranking:
    """Collects the best reason per session id while the tiers are queried in rank order."""

    def __init__(self) -> None:
        self.best: dict[str, Match] = {}

    def add(self, session_id: str, rank: int, kind: str, value: str, step: str = "") -> None:
        found = Match(rank, kind, value, step)
        if session_id not in self.best or found < self.best[session_id]:
            self.best[session_id] = found


def rank_sessions(conn: sqlite3.Connection, text: str, fts_query: str, use_fts: bool) -> dict[str, Match]:
    """Every session matching ``text``, each with its best :class:`Match`.

    ``fts_query`` is the FTS5 phrase for step notes (empty: none); ``use_fts`` False
    when the index is missing, then notes are matched with LIKE.
    """
    q = {"q": f"%{like_escape(text)}%"}
    folded = text.casefold()
    found = Ranking()
    for sid, cause in conn.execute(
        r"SELECT DISTINCT session_id, cause FROM causes WHERE cause LIKE :q ESCAPE '\'", q
    ):
        found.add(sid, CAUSE, "cause", cause)
    for sid, target, host, guest, scenario, source in conn.execute(
        r"""SELECT id, target, host, guest, scenario, source FROM sessions WHERE
            id LIKE :q ESCAPE '\' OR target LIKE :q ESCAPE '\' OR host LIKE :q ESCAPE '\'
            OR guest LIKE :q ESCAPE '\' OR scenario LIKE :q ESCAPE '\' OR source LIKE :q ESCAPE '\'""",
        q,
    ):
        for rank, label, value in (
            (PLACE, "target", target), (PLACE, "host", host), (PLACE, "guest", guest),
            (PLACE, "id", sid), (SCENARIO, "scenario", scenario), (SCENARIO, "source", source),
        ):
            if value and folded in str(value).casefold():
                found.add(sid, rank, label, str(value))
                break
    for sid, kind, detail in conn.execute(
        r"SELECT session_id, kind, detail FROM events WHERE kind IN ('note', 'answer') "
        r"AND detail LIKE :q ESCAPE '\'",
        q,
    ):
        said = _operator_words(kind, detail)
        if folded in said.casefold():
            found.add(sid, OPERATOR, f"operator_{kind}", snippet(said, text))
    for sid, step, answer in conn.execute(
        r"SELECT session_id, step, answer FROM steps WHERE answer LIKE :q ESCAPE '\'", q
    ):
        found.add(sid, OPERATOR, "step_answer", snippet(answer, text), step)
    for sid, step, note in _step_notes(conn, q, fts_query, use_fts):
        found.add(sid, STEP_NOTE, "step_note", snippet(note or "", text), step)
    return found.best


def _operator_words(kind: str, detail: str) -> str:
    """What the operator typed or chose, from an event's JSON detail (never the question text)."""
    try:
        doc: Any = json.loads(detail or "{}")
    except ValueError:
        return ""
    if not isinstance(doc, dict):
        return ""
    key = "text" if kind == "note" else "answer"
    return str(doc.get(key) or "")


def _step_notes(conn: sqlite3.Connection, q: dict[str, str], fts_query: str, use_fts: bool) -> list[tuple[str, str, str]]:
    if use_fts and fts_query:
        try:
            return list(conn.execute(
                "SELECT s.session_id, s.step, s.note FROM steps s JOIN steps_fts f ON f.rowid = s.rowid "
                "WHERE steps_fts MATCH ?",
                (fts_query,),
            ))
        except sqlite3.OperationalError:
            pass  # an index the build cannot read: LIKE below still answers
    return list(conn.execute(
        r"SELECT session_id, step, note FROM steps WHERE note LIKE :q ESCAPE '\' "
        r"OR title LIKE :q ESCAPE '\' OR step LIKE :q ESCAPE '\'",
        q,
    ))
