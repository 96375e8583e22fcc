"""A session diff as text: what ``vnetdoctor diff`` prints and the TUI's diff dialog shows.

:mod:`vnetdoctor.sessiondiff` decides what changed between two recorded sessions
(a :class:`~vnetdoctor.sessiondiff.SessionDiff`, also what ``diff --json`` writes);
this module only says it, in the operator's language, in columns that line up on a
terminal whatever the script (the labels are padded by display width, not by code
points), with each probe's row changes cut at :data:`MAX_ROW_LINES` on a screen and
kept whole in a file or a pipe. Two modules because the comparison is data every
front end shares, and the layout is one front end's business.
"""

from __future__ import annotations

from typing import Any

from vnetdoctor.knowledge.model import STATUS_MARK
from vnetdoctor.knowledge.text import display_width, pad, tr
from vnetdoctor.probes.vocabulary import Verdict
from vnetdoctor.records import document_verdict
from vnetdoctor.sessiondiff import ObservationDiff, SessionDiff, cause_ids, comparison_notes, diff_text
from vnetdoctor.sessiondiff_rows import value_text

# Row changes shown per probe on a screen before "… N more" (``max_rows=None``: all).
MAX_ROW_LINES = 12


def _reach(value: bool | None, finished: bool, lang: str) -> str:
    if not finished:
        return diff_text("interrupted", lang)
    return diff_text("yes" if value else "no", lang) if value is not None else diff_text("unknown", lang)


def _params_text(o: ObservationDiff) -> str:
    """``dst=198.18.0.11 size=384→79``: a parameter that differs from A's shows both."""
    before = dict(o.params_a or o.params)
    after = dict(o.params)
    return " ".join(
        f"{k}={before[k]}→{after[k]}" if k in before and k in after and before[k] != after[k]
        else f"{k}={after[k]}" if k in after else f"{k}={before[k]}→—"
        for k in dict.fromkeys([*before, *after])
    )


def render_diff(d: SessionDiff, a: Any, b: Any, *, lang: str = "en", max_rows: int | None = MAX_ROW_LINES) -> str:
    """The diff as compact text for a terminal (or a ticket)."""
    from vnetdoctor.report import when

    out = []
    for tag, s in (("A", a), ("B", b)):
        verdict = document_verdict(s.diagnosis)
        summary = ", ".join(cause_ids(s)) or (
            diff_text("interrupted", lang)
            if verdict is Verdict.NOT_RUN
            else diff_text("reachable_word" if verdict is Verdict.HEALTHY else "no_cause", lang)
        )
        out.append(f"{tag}  {s.id}  {when(s.started, seconds=False)}  {s.source:<8}  {summary}")
    out.append("")
    notes = comparison_notes(a, b, lang)
    colon, label, sep = tr("sep.colon", lang), tr("sep.label", lang), tr("sep.list", lang)
    width = max(display_width(diff_text(k, lang) + label) for k in ("reachable", "gone", "new", "kept", "fixed_by")) + 1
    for note in notes:
        out.append(f"{diff_text('note', lang)}{colon}{note}")
    if notes:
        out.append("")
    ra = _reach(d.reachable[0], d.finished[0], lang)
    rb = _reach(d.reachable[1], d.finished[1], lang)
    none = diff_text("none", lang)
    out.append(pad(diff_text("reachable", lang) + label, width) + f"{ra} → {rb}")
    out.append(pad(diff_text("gone", lang) + label, width) + (sep.join(d.causes_gone) or none))
    out.append(pad(diff_text("new", lang) + label, width) + (sep.join(d.causes_new) or none))
    out.append(pad(diff_text("kept", lang) + label, width) + (sep.join(d.causes_kept) or none))
    for sid, command in d.fixed_by:
        tag = "A" if sid == d.a else "B"
        out.append(pad(diff_text("fixed_by", lang) + label, width) + diff_text("fixed_in", lang, command=command, tag=tag))
    if d.steps:
        out += ["", f"{diff_text('steps', lang, n=len(d.steps))}{label}"]
        name_w = min(28, max(len(s.step) for s in d.steps))
        layer_w = max(len(s.layer) for s in d.steps)
        for s in d.steps:
            before = STATUS_MARK.get(s.before, s.before) if s.before else "·"
            after = STATUS_MARK.get(s.after, s.after) if s.after else "·"
            gone = f" ({diff_text('not_run', lang)})" if s.after is None else ""
            new = f" ({diff_text('not_run', lang)} → {s.after})" if s.before is None else ""
            text = s.note or s.title
            out.append(
                f"  {before} → {after}  {s.layer:<{layer_w}}  {s.step:<{name_w}}  {text}{gone}{new}".rstrip()
            )
    if d.observations:
        out += ["", f"{diff_text('obs', lang)}{label}"]
        for o in d.observations:
            params = _params_text(o)
            out.append(f"  {o.probe} @ {o.vantage}" + (f" ({params})" if params else ""))
            if o.status:
                out.append(
                    f"    {o.status[0]} → {o.status[1]}" + (f": {o.reason}" if o.reason else "")
                )
                continue
            lines = [f"    - {r}" for r in o.removed] + [f"    + {r}" for r in o.added]
            for c in o.changed:
                fields = ", ".join(f"{n} {value_text(x)} → {value_text(y)}" for n, x, y in c.fields)
                lines.append(f"    ~ {c.label}: {fields}")
            if o.packets:
                lines.append("    " + diff_text("packets", lang, a=o.packets[0], b=o.packets[1]))
            if max_rows is not None and len(lines) > max_rows:  # None: a file or a pipe keeps every line
                rest = len(lines) - (max_rows - 1)
                lines = lines[: max_rows - 1] + ["    " + diff_text("more", lang, n=rest)]
            out += lines
    if d.only_a or d.only_b:
        out.append("")
        if d.only_a:
            out.append(f"{diff_text('only_a', lang)}{colon}{sep.join(d.only_a)}")
        if d.only_b:
            out.append(f"{diff_text('only_b', lang)}{colon}{sep.join(d.only_b)}")
    if d.empty:
        out += ["", diff_text("same", lang)]
    return "\n".join(out) + "\n"
