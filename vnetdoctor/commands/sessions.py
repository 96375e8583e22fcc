"""``vnetdoctor sessions``: the recorded sessions, newest first, in 80 columns.

The table is for picking a session to replay, export or diff, so it shows the id
(what those commands take; a unique prefix is enough), when, the path in full with
the direction of the ping (``host→guest`` or ``host←guest``; cut only past 24
characters), the lab scenario,
and the result — "fixed: CAUSE" when an applied fix turned it healthy. With
``--search`` each session says on a second line why it matched. The list is cut
at ``--limit`` (default 50) and says so on stderr; ``--all`` lists everything.
``--json`` gives every field the table shows and more, for scripts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path

from vnetdoctor.commands._stdout import emit, output_width
from vnetdoctor.knowledge.text import choose_lang, display_width, tr
from vnetdoctor.records import match_words, result_words
from vnetdoctor.store import SessionStore, SessionSummary, default_db_path

MIN_WIDTH = 80
# (header, minimum width when the table must shrink); None: never shrinks.
_COLUMNS: tuple[tuple[str, int | None], ...] = (  # (sessions.* text key, minimum width)
    ("id", None),
    ("started", None),
    ("target", 15),
    ("path", 24),
    ("scenario", 6),
    ("result", 14),
)
# Which column gives up width first when the terminal is narrow: the target, the
# result (why the operator is looking), and the path only as a last resort and
# never below 24 characters: two sessions that differ only in their guest must
# look different, and `vnd-host→vnd-guest` is never cut.
_SHRINK_ORDER = (2, 5, 3)
_DROP_ORDER = (4, 1)  # SCENARIO, then STARTED
DEFAULT_LIMIT = 50


def age(started: float, now: float, lang: str = "en") -> str:
    """How long ago, in a few columns: the id already carries the exact (UTC) time."""
    secs = max(0.0, now - started)
    if secs < 60:
        return tr("sessionlist.age_now", lang)
    if secs < 3600:
        return tr("sessionlist.age_minutes", lang, n=int(secs // 60))
    if secs < 86400:
        return tr("sessionlist.age_hours", lang, n=int(secs // 3600))
    if secs < 100 * 86400:
        return tr("sessionlist.age_days", lang, n=int(secs // 86400))
    return _dt.datetime.fromtimestamp(started).strftime("%Y-%m")


def _row(s: SessionSummary, now: float, lang: str) -> list[str]:
    return [s.id, age(s.started, now, lang), s.target or "—", s.path, s.scenario or "—", result_words(s, lang)]


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
    """Lay out rows (the first is the header) in ``width`` columns.

    First whole columns that other fields repeat are dropped (the scenario, which
    ``--json`` and a pipe keep; the age, which the id's date and time carry), then
    the flexible columns shrink in :data:`_SHRINK_ORDER`. The path never shrinks.
    """
    keep = list(range(len(_COLUMNS)))
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(_COLUMNS))]

    def total() -> int:
        return sum(widths[i] for i in keep) + 2 * (len(keep) - 1)

    for i in _DROP_ORDER:
        if total() <= width:
            break
        keep.remove(i)
    for i in _SHRINK_ORDER:
        excess = total() - width
        if excess <= 0:
            break
        if i in keep:
            minimum = _COLUMNS[i][1] or widths[i]
            widths[i] -= min(excess, max(0, widths[i] - minimum))
    lines = []
    for r in rows:
        cells = [truncate(r[i], widths[i]) for i in keep]
        shown = [widths[i] for i in keep]
        padded = [c + " " * (w - display_width(c)) for c, w in zip(cells[:-1], shown[:-1])]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return lines


def _screen(args: argparse.Namespace, path: Path) -> int:
    """The Sessions screen; a session chosen there is replayed, then the list comes back."""
    from vnetdoctor.commands import replay
    from vnetdoctor.knowledge.text import choose_lang
    from vnetdoctor.tui.launch import run_app
    from vnetdoctor.tui.state import SessionState

    lang = choose_lang(args.lang or None)
    replayed: str | None = None
    while True:
        state = SessionState(request=None, lang=lang, sessions_db=path, sessions_query=args.search or "",
                             sessions_focus=replayed)
        code = run_app(state, _no_engine)
        if state.replay_choice is None:  # left the list without choosing (q)
            return code
        replayed = state.replay_choice
        replay.run(argparse.Namespace(session=replayed, db=str(path), lang=args.lang))


def _no_engine(*_args: object) -> object:
    raise RuntimeError("the Sessions screen runs no engine")


def run(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else default_db_path()
    if not (args.json or args.table) and sys.stdout.isatty() and sys.stdin.isatty() and sys.stderr.isatty():
        return _screen(args, path)
    if not path.exists():
        lang = choose_lang(getattr(args, "lang", None) or None)
        emit("[]\n" if args.json else tr("sessionlist.none", lang, db=path) + "\n")
        return 0
    limit = None if args.all else args.limit
    with SessionStore(path, readonly=True) as store:
        found, total = store.listing(search=args.search, limit=limit)
    lang = choose_lang(getattr(args, "lang", None) or None)
    if len(found) < total:
        cut = "sessionlist.cut_matches" if args.search else "sessionlist.cut_sessions"
        print(tr(cut, lang, shown=len(found), total=total), file=sys.stderr)
    if args.json:
        emit(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2) + "\n")
        return 0
    if not found:
        none = (tr("sessionlist.none_match", lang, query=repr(args.search)) if args.search
                else tr("sessionlist.none", lang, db=path))
        emit(none + "\n")
        return 0
    width = output_width(MIN_WIDTH)
    now = time.time()
    rows = [[tr(f"sessionlist.{h}", lang) for h, _ in _COLUMNS], *(_row(s, now, lang) for s in found)]
    # A file or a pipe gets every character (no terminal to fit).
    lines = fit(rows, max(MIN_WIDTH, width) if width else 1 << 30)
    out = [lines[0]]
    for line, s in zip(lines[1:], found):
        out.append(line)
        if s.match is not None:
            why = tr("sessionlist.matched", lang, why=match_words(s.match, lang))
            out.append(truncate(why, max(MIN_WIDTH, width)) if width else why)
    emit("\n".join(out) + "\n")
    return 0
