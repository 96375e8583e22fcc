"""``vnetdoctor sessions``: the recorded sessions, newest first, in 80 columns.

The table is for picking a session to replay, export or diff, so it shows the id
(what those commands take; a unique prefix is enough), when, which path, and the
result. ``--json`` gives every field for scripts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from pathlib import Path

from vnetdoctor.commands._stdout import emit, output_width
from vnetdoctor.knowledge.text import choose_lang, display_width, tr
from vnetdoctor.store import INTERRUPTED, RUNNING, SessionStore, SessionSummary, default_db_path

MIN_WIDTH = 80
# (header's text key, minimum width when the table must shrink); None: never shrinks.
_COLUMNS: tuple[tuple[str, int | None], ...] = (  # (sessions.* text key, minimum width)
    ("id", None),
    ("started", None),
    ("target", 15),
    ("path", 10),
    ("result", 14),
)
# Which column gives up width first when the terminal is narrow: the path, then
# the target, and the result (why the operator is looking) last.
_SHRINK_ORDER = (3, 2, 4)


def short_vantage(text: str | None) -> str:
    """``netns:NAME`` → ``NAME``, ``libvirt:DOM@URI`` → ``vm:DOM``: the column is narrow."""
    if not text:
        return "—"
    if text.startswith("netns:"):
        return text[6:]
    if text.startswith("libvirt:"):
        return "vm:" + text[8:].split("@", 1)[0]
    return text


def age(started: float, now: float) -> str:
    """How long ago, in at most 7 characters: the id already carries the exact (UTC) time."""
    secs = max(0.0, now - started)
    if secs < 60:
        return "now"
    if secs < 3600:
        return f"{int(secs // 60)}m ago"
    if secs < 86400:
        return f"{int(secs // 3600)}h ago"
    if secs < 100 * 86400:
        return f"{int(secs // 86400)}d ago"
    return _dt.datetime.fromtimestamp(started).strftime("%Y-%m")


def _row(s: SessionSummary, now: float) -> list[str]:
    started = age(s.started, now)
    path = f"{short_vantage(s.host)}→{short_vantage(s.guest)}"
    return [s.id, started, s.target or "—", path, table_result(s)]


def table_result(s: SessionSummary) -> str:
    """The result in a few characters: the first cause and how many more (``--json`` has all)."""
    if s.state in (RUNNING, INTERRUPTED):
        return s.state
    if s.causes:
        return s.causes[0] + (f" +{len(s.causes) - 1}" if len(s.causes) > 1 else "")
    return s.result


def truncate(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…"


def fit(rows: list[list[str]], width: int) -> list[str]:
    """Lay out rows (the first is the header) in ``width`` columns, shrinking the widest flexible column."""
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    gaps = 2 * (len(widths) - 1)
    for i in _SHRINK_ORDER:
        excess = sum(widths) + gaps - width
        if excess <= 0:
            break
        minimum = _COLUMNS[i][1] or widths[i]
        widths[i] -= min(excess, max(0, widths[i] - minimum))
    lines = []
    for r in rows:
        cells = [truncate(c, w) for c, w in zip(r, widths)]
        padded = [c + " " * (w - display_width(c)) for c, w in zip(cells[:-1], widths[:-1])]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else default_db_path()
    if not path.exists():
        emit("[]\n" if args.json else f"no sessions recorded yet ({path})\n")
        return 0
    with SessionStore(path, readonly=True) as store:
        found = store.sessions(search=args.search)
    if args.json:
        emit(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2) + "\n")
        return 0
    if not found:
        emit(
            (
                f"no session matches {args.search!r}"
                if args.search
                else f"no sessions recorded yet ({path})"
            )
            + "\n"
        )
        return 0
    width = output_width(MIN_WIDTH)
    now = time.time()
    lang = choose_lang(None)  # LANG / LC_ALL decide, as for every other listing
    rows = [[tr(f"sessions.{h}", lang) for h, _ in _COLUMNS], *(_row(s, now) for s in found)]
    # A file or a pipe gets every character (no terminal to fit).
    emit("\n".join(fit(rows, max(MIN_WIDTH, width) if width else 1 << 30)) + "\n")
    return 0
