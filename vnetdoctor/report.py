"""A recorded session as a Markdown report, ready to paste into a ticket.

The reader of a ticket did not watch the session: the report leads with what was
asked and the verdict, then each cause with its evidence and the exact fix (with
its undo and risk, because the person applying it is often not the one who
diagnosed it), then every step by layer with the same status marks the TUI uses,
then what the operator did (answers, fixes applied) and the captured packets.

Commands go in fenced code blocks, never in table cells, so that a ``|`` in a
shell pipeline cannot break the table and a copy-paste gets exactly the command.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from vnetdoctor import __version__
from vnetdoctor.knowledge.catalog import guidance_text
from vnetdoctor.knowledge.model import MACHINE_WIDE, STATUS_MARK, Finding, StepResult
from vnetdoctor.knowledge.text import duration, layer_name, risk_name, tr
from vnetdoctor.knowledge.took import took_text
from vnetdoctor.probes.vocabulary import Verdict, layer_rank
from vnetdoctor.records import document_verdict

_MAX_PACKETS = 40


def label(key: str, lang: str, **kw: Any) -> str:
    """The report's text ``key`` (``report.*`` in data/reports.toml) in ``lang``."""
    return tr(f"report.{key}", lang, **kw)


def when(ts: float | None, *, seconds: bool = True) -> str:
    """Local time with the UTC offset: a ticket is read in another time zone."""
    if ts is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S %z" if seconds else "%Y-%m-%d %H:%M"
    return _dt.datetime.fromtimestamp(ts).astimezone().strftime(fmt)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code_block(text: str, lang: str = "sh") -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside it."""
    fence = "```"
    while fence in text:
        fence += "`"
    return [fence + lang, text, fence]


def verdict_lines(session: Any, lang: str) -> list[str]:
    """The verdict paragraph (shared by the report and ``diff``'s header)."""
    causes: Sequence[Finding] = session.causes()
    verdict = document_verdict(session.diagnosis)
    if verdict is Verdict.NOT_RUN:
        out = [label("v_interrupted", lang, n=len(session.steps))]
        if causes:
            out.append(label("v_partial", lang, causes=", ".join(f"`{c.cause}`" for c in causes)))
        return out
    reachable = session.diagnosis.get("reachable")
    if verdict in (Verdict.CAUSE, Verdict.WARNINGS):
        return [label("v_reach_causes" if reachable else "v_causes", lang, n=len(causes))]
    if verdict is Verdict.HEALTHY:
        fixed = session.fixed_by() if hasattr(session, "fixed_by") else ()
        if fixed and _fix_stands(session):
            return [label("v_reachable_fixed", lang, causes=", ".join(f"`{c}`" for c in fixed))]
        return [label("v_reachable", lang)]
    # Inconclusive: say whether the end-to-end check failed or could not run at all.
    return [label("v_inconclusive" if reachable is False else "v_unknown", lang)]


def _fix_stands(session: Any) -> bool:
    """A fix applied in this session is still in place: one whose undo ran (the changes panel)
    did not make it healthy, so the report does not say it did."""
    from vnetdoctor.sessiondiff import applied_fixes

    return bool(applied_fixes(session))


def render_markdown(
    session: Any, *, lang: str = "en", redacted: bool = False, now: float | None = None, notice: str = ""
) -> str:
    """The report of a :class:`~vnetdoctor.store.RecordedSession`."""
    out: list[str] = [f"# {label('title', lang, id=session.id)}", ""]
    if notice:  # texts the record could not say in this language (see vnetdoctor.relang)
        out += [f"_{notice}_", ""]
    out += _request(session, lang)
    out += [f"## {label('verdict', lang)}", "", *verdict_lines(session, lang), ""]
    causes = session.causes()
    if causes:
        out += [f"## {label('causes', lang)}", ""]
        for i, finding in enumerate(causes, 1):
            out += _finding(i, finding, lang)
    out += _steps(session, lang)
    out += _events(session, lang)
    out += _packets(session, lang)
    out += ["---", ""]
    if redacted:
        out += [f"_{label('redacted', lang)}_", ""]
    stamp = when(now if now is not None else _dt.datetime.now().timestamp())
    out.append(f"_{label('generated', lang, v=__version__, t=stamp)}_")
    return "\n".join(out) + "\n"


def _request(session: Any, lang: str) -> list[str]:
    req = session.request
    rows: list[tuple[str, str]] = [(label("started", lang), when(session.started))]
    if session.finished:
        rows.append((label("finished", lang), when(session.finished)))
    else:
        state = "still_running" if session.state == "running" else "not_finished"
        rows.append((label("finished", lang), label(state, lang)))
    rows.append((label("source", lang), f"`{session.source}`"))
    if session.scenario:
        rows.append((label("scenario", lang), f"`{session.scenario}`"))
    rows.append(
        (label("target", lang), f"`{session.target}`" if session.target else label("none", lang))
    )
    rows.append((label("host", lang), f"`{req.host}`"))
    if req.guest:
        rows.append((label("guest", lang), f"`{req.guest}`"))
    side = label("guest_side" if req.from_side == "guest" else "host_side", lang)
    rows.append((label("direction", lang), side))
    if req.port:
        rows.append((label("port", lang), str(req.port)))
    if session.diagnosis and session.diagnosis.get("duration_ms") is not None:
        # Which walk the time is of (a re-run after a fix is not the whole diagnosis): knowledge/took.py.
        took = (getattr(session, "extra", None) or {}).get("took")
        spent = duration(session.diagnosis["duration_ms"], lang)
        if isinstance(took, Mapping) and took.get("run") == "rerun":
            titles = {s.step: s.title for s in session.steps}
            spent = took_text(took, session.diagnosis["duration_ms"], lang, titles.get)
        rows.append((label("duration", lang), spent))
    out = [f"## {label('request', lang)}", "", "| | |", "|---|---|"]
    out += [f"| {cell(k)} | {cell(v)} |" for k, v in rows]
    return out + [""]


def _finding(i: int, finding: Finding, lang: str) -> list[str]:
    out = [f"### {i}. `{finding.cause}` — {layer_name(finding.layer, lang)}", ""]
    if finding.summary:
        out += [finding.summary, ""]
    if finding.evidence:
        out += [f"**{label('evidence', lang)}**", ""]
        for ev in finding.evidence:
            src = " · ".join(
                x
                for x in (
                    f"`{ev.probe}`" if ev.probe else "",
                    f"`{ev.vantage}`" if ev.vantage else "",
                )
                if x
            )
            out.append(f"- {ev.text}" + (label("paren", lang, text=src) if src else ""))
        out.append("")
    out += [f"**{label('fixes', lang)}**", ""]
    if not finding.fixes:
        out += [label("no_fix", lang), ""]
    for n, fix in enumerate(finding.fixes, 1):
        where = label("where", lang, w=fix.where) if fix.where and fix.missing != (MACHINE_WIDE,) else ""
        out += [
            f"{label('fix_n', lang, n=n, risk=risk_name(fix.risk, lang) or '?', where=where)}",
            "",
        ]
        if not fix.runnable:
            # Guidance: what it needs and what to do, never a command block to paste.
            out += [guidance_text(fix, lang), ""]
            if fix.note:
                out += [fix.note, ""]
            continue
        if fix.note:
            out += [fix.note, ""]
        out += code_block(fix.command) + [""]
        if fix.undo:
            out += [label("undo", lang), ""] + code_block(fix.undo) + [""]
        else:
            out += [label("no_undo", lang), ""]
    return out


def _steps(session: Any, lang: str) -> list[str]:
    if not session.steps:
        return []
    runs: dict[str, int] = {}
    for s in session.steps:
        runs[s.step] = runs.get(s.step, 0) + 1
    steps: Sequence[StepResult] = session.latest_steps()
    by_layer: dict[str, list[StepResult]] = {}
    for s in steps:
        by_layer.setdefault(s.layer, []).append(s)
    out = [f"## {label('steps', lang)}", "", label("legend", lang), ""]
    for layer in sorted(by_layer, key=layer_rank):
        out += [f"### {layer_name(layer, lang)}", ""]
        out += [
            f"| | {label('col_step', lang)} | {label('col_result', lang)} | {label('col_time', lang)} |",
            "|---|---|---|--:|",
        ]
        for s in by_layer[layer]:
            name = s.title + label("paren", lang, text=f"`{s.step}`") if s.title else f"`{s.step}`"
            result = s.note
            if s.answer:
                result = (result + " — " if result else "") + label("answer", lang, a=s.answer)
            if s.findings:
                result = (result + " — " if result else "") + ", ".join(
                    f"`{f.cause}`" for f in s.findings
                )
            if runs.get(s.step, 1) > 1:
                result += label("paren", lang, text=label("reruns", lang, n=runs[s.step]))
            mark = STATUS_MARK.get(s.status, s.status)
            out.append(f"| {mark} | {cell(name)} | {cell(result)} | {duration(s.duration_ms, lang)} |")
        out.append("")
    return out


# Events a reader of the ticket needs in words; any other kind is listed field by field.
_EVENT_TEXT = {"fix_applied", "fix_undone", "fix_copied", "fix_cancelled", "answer", "interrupted", "error", "rewalk"}
# Fields that only a program needs (the argv behind the shown command, flags): left out.
_MACHINE_FIELDS = {"argv", "undo_argv", "runnable", "missing", "then", "risk", "note"}


def _first_line(text: Any) -> str:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _event_line(kind: str, detail: Mapping[str, Any], lang: str) -> str:
    """One event as a sentence: what was run, where, what it returned, how to undo it.

    A colleague reads this the next morning; the argv lists and flags recorded for
    replay stay in the JSON export, not here.
    """
    if kind in _EVENT_TEXT:
        # Optional parts are joined here: the translator shows an empty value as <unknown>.
        commands = f"`{detail.get('command', '')}`"
        more = [f"`{step['command']}`" for step in detail.get("then") or () if isinstance(step, Mapping)]
        if more:
            commands += label("ev_then", lang, steps=", ".join(more))
        rc, output = str(detail.get("returncode", "?")), _first_line(detail.get("output"))
        values = {
            "step": detail.get("step") or "-",
            "where": detail.get("where") or "-",
            "command": detail.get("command", ""),
            "commands": commands,
            "undo": detail.get("undo") or label("none", lang),
            "rc": rc + label("ev_output", lang, text=output) if output else rc,
            "question": detail.get("question", ""),
            "answer": detail.get("answer", ""),
            "reason": detail.get("reason", ""),
            "error": detail.get("error", ""),
        }
        return label(f"ev_{kind}", lang, **values)
    parts = []
    for key, value in detail.items():
        if key in _MACHINE_FIELDS or value in (None, ""):
            continue
        parts.append(f"{key}: `{value}`" if key in ("command", "undo") else f"{key}: {value}")
    return f"**{kind}**" + (" — " + "; ".join(parts) if parts else "")


def _events(session: Any, lang: str) -> list[str]:
    if not session.events:
        return []
    out = [f"## {label('events', lang)}", ""]
    for ev in session.events:
        out.append(f"- {when(ev.time)} {_event_line(ev.kind, ev.detail, lang)}")
    return out + [""]


def _packets(session: Any, lang: str) -> list[str]:
    frames = session.packets()
    if not frames:
        return []
    shown = frames[:_MAX_PACKETS]
    t0 = frames[0].time
    lines = [
        f"{r.time - t0:9.6f}  {r.vantage}  {r.iface:<10} {r.summary}"
        + (f"  [{r.tag}]" if r.tag else "")
        for r in shown
    ]
    out = [
        f"## {label('packets', lang)}",
        "",
        label("packets_n", lang, n=len(frames), k=len(shown), id=session.id),
        "",
    ]
    return out + code_block("\n".join(lines), "text") + [""]
