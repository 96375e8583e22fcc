"""``vnetdoctor diff A B``: what changed between two sessions (A before, B after a fix).

Session references are what ``resolve`` takes: a full id, a unique prefix,
``last``, or ``last~N`` (so ``vnetdoctor diff last~1 last`` compares the two most
recent runs). Exit status 0 whether or not anything changed. ``--json`` prints
the same comparison as one document (schema ``vnetdoctor.diff/1``) for scripts:
each before/after pair as an object with ``a`` and ``b``, never a positional pair.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from vnetdoctor.commands._stdout import emit, output_width
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.knowledge.text import choose_lang, tr
from vnetdoctor.relang import in_language
from vnetdoctor.sessiondiff import SessionDiff, diff_sessions
from vnetdoctor.sessiondiff_text import MAX_ROW_LINES, render_diff
from vnetdoctor.store import SessionStore


def run(args: argparse.Namespace) -> int:
    with SessionStore(args.db, readonly=True) as store:
        id_a, id_b = store.resolve(args.session_a), store.resolve(args.session_b)
        if id_a == id_b:
            raise UsageError(tr("cli.same_session", a=args.session_a, b=args.session_b, id=id_a))
        a, b = store.load(id_a), store.load(id_b)
    lang = choose_lang(args.lang)
    # Step notes and titles in the asked language, whatever each session was recorded in.
    a, b = in_language(a, lang).session, in_language(b, lang).session
    d = diff_sessions(a, b)
    if getattr(args, "json", False):
        emit(json.dumps(diff_document(d), ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        # A terminal gets each probe's first rows; a file or a pipe every one (nothing cut).
        cut = MAX_ROW_LINES if output_width() is not None else None
        emit(render_diff(d, a, b, lang=lang, max_rows=cut))
    return 0


def _pair(values: tuple[Any, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {"a": values[0], "b": values[1]}


def diff_document(d: SessionDiff) -> dict[str, Any]:
    """The comparison as JSON-ready data: what render_diff says, every field named."""
    return {
        "schema": "vnetdoctor.diff/1",
        "a": d.a,
        "b": d.b,
        "changed": not d.empty,
        "reachable": _pair(d.reachable),
        "finished": _pair(d.finished),
        "verdict": _pair((str(d.verdict[0]), str(d.verdict[1]))),
        "causes": {"gone": list(d.causes_gone), "new": list(d.causes_new), "kept": list(d.causes_kept)},
        "steps": [
            {"id": s.step, "layer": s.layer, "title": s.title, "status": _pair((s.before, s.after)), "note": s.note}
            for s in d.steps
        ],
        "observations": [
            {
                "probe": o.probe,
                "vantage": o.vantage,
                "params": dict(o.params),
                "params_a": dict(o.params_a) if o.params_a is not None else None,  # A's, when they differ
                "status": _pair(o.status),
                "reason": o.reason,
                "rows_removed": list(o.removed),
                "rows_added": list(o.added),
                "rows_changed": [
                    {"row": c.label, "fields": [{"field": f, "a": x, "b": y} for f, x, y in c.fields]}
                    for c in o.changed
                ],
                "packets": _pair(o.packets),
            }
            for o in d.observations
        ],
        "only_a": list(d.only_a),
        "only_b": list(d.only_b),
        "notes": list(d.notes),
        "fixed_by": [{"session": sid, "command": command} for sid, command in d.fixed_by],
    }
