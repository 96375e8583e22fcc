"""The compact human report of ``vnetdoctor diagnose``: steps by layer, then the verdict.

Marks carry the meaning (✓ ✗ ! - ?) so the report reads without colour; colour is
added only on a terminal and never when NO_COLOR is set. On the Linux console (or with
VNETDOCTOR_ASCII, which --ascii sets) the marks are ``[ok] [X] [!] [-] [?]`` and every
line is folded to ASCII (knowledge/ascii_text.py), as the TUI does.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import TextIO

from vnetdoctor.knowledge.ascii_text import ASCII_STATUS_MARK, ascii_terminal
from vnetdoctor.knowledge.ascii_text import fold as ascii_fold
from vnetdoctor.knowledge.catalog import guidance_text
from vnetdoctor.knowledge.model import STATUS_MARK, Diagnosis
from vnetdoctor.knowledge.text import (
    clip,
    display_width,
    duration,
    layer_name,
    pad,
    risk_name,
    side_name,
    tr,
    wrap,
)
from vnetdoctor.knowledge.verdict_hint import capability_hint
from vnetdoctor.probes.vocabulary import Verdict

_COLOURS = {"pass": "32", "fail": "31", "warn": "33", "skip": "2", "ask": "36"}


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def render(diagnosis: Diagnosis, session_id: str | None, lang: str = "en", colour: bool = False,
           width: int | None = None, ascii: bool | None = None) -> str:
    def t(key: str, **values: object) -> str:
        return tr(f"console.{key}", lang, **values)

    c = t("colon")
    if ascii is None:
        ascii = ascii_terminal()
    marks = ASCII_STATUS_MARK if ascii else STATUS_MARK
    if width is None:  # fit a terminal; a file or a pipe (0) keeps every character
        width = min(shutil.get_terminal_size((100, 24)).columns, 160) if sys.stdout.isatty() else 0
    req = diagnosis.request
    sender = req.guest if req.from_side == "guest" and req.guest else req.host
    lines = [t("title", sender=sender, target=diagnosis.target or "?")
             + (f"  ({_side('guest' if req.from_side == 'host' else 'host', lang)}{c}"
                f"{req.guest if req.from_side == 'host' else req.host})" if req.guest else "")]

    def paint(text: str, status: str) -> str:
        return f"\033[{_COLOURS[status]}m{text}\033[0m" if colour and status in _COLOURS else text

    layer = None
    for step in diagnosis.steps:
        # English keeps the short layer ids; Chinese gets the layer's name.
        head = (step.layer if lang == "en" else layer_name(step.layer, lang)) if step.layer != layer else ""
        layer = step.layer
        mark = paint(marks.get(step.status, "?"), step.status)
        head = pad(head, 12)
        text = f"{head}{mark} {step.title}{c}{step.note}" if step.note else f"{head}{mark} {step.title}"
        lines.append(clip(text, width + (len(mark) - len(marks.get(step.status, "?")))))
    lines.append("")
    for i, cause in enumerate(diagnosis.causes):
        label = t("cause") if i == 0 else t("also")
        head = f"{label}{c}{cause.cause}"
        folded = fold(f"{head} — {cause.summary}", width, 2)
        if folded[0].startswith(head):  # the cause id is never split, so it heads the first line
            folded[0] = paint(head, "fail" if cause.severity == "fail" else "warn") + folded[0][len(head):]
        lines.extend(folded)
        for ev in cause.evidence:
            lines.append(clip(f"  {t('evidence')}{c}{ev.text}", width))
        for fix in cause.fixes:
            risk = f"[{t('risk')}{c}{risk_name(fix.risk, lang)}]"
            if not fix.runnable:
                # No command to paste: what it needs, and the note (whole) that says what to do.
                lines.extend(fold(f"  {t('fix')}{c} {guidance_text(fix, lang)}", width, 8, tail=f"   {risk}"))
                if fix.note:
                    lines.extend(fold(fix.note, width - 8, 0, prefix=" " * 8))
                continue
            # A fix of several steps shows one command per line, aligned under the first.
            indent = "\n" + " " * (len(t("fix")) + len(c) + 3)
            lines.append(f"  {t('fix')}{c} {fix.command.replace(chr(10), indent)}   {risk}")
            if fix.undo:
                lines.append(f"  {t('undo')}{c}{fix.undo.replace(chr(10), indent)}")
        lines.append("")
    verdict = _verdict_text(diagnosis, t)
    tail = f"{verdict}{t('took', duration=duration(diagnosis.duration_ms, lang))}"
    if session_id:
        tail += f"  {t('session')} {session_id}"
    lines.append(tail)
    lines.extend(fold(hint, width, 0) if (hint := capability_hint(diagnosis, lang)) else [])
    out = "\n".join(lines)
    return ascii_fold(out) if ascii else out


def fold(text: str, width: int, indent: int, prefix: str = "", tail: str = "") -> list[str]:
    """``text`` folded to ``width`` terminal columns, so the terminal never has to wrap it.

    By display width (a Chinese character takes two columns) and never inside a word,
    a number or an address (``knowledge.text.wrap``): a terminal's own wrapping cuts
    ``198.18.0.11`` or ``firewall.guest_blocks`` in two. Lines after the first are
    indented ``indent`` columns; every line starts with ``prefix``. ``tail`` (a risk
    tag) ends the last line, or is a line of its own if it does not fit: never split.
    ``width <= 0`` (a file or a pipe) keeps each line whole.
    """
    if width <= 0:
        return [prefix + line for line in (text + tail).split("\n")]
    room = max(width - indent, 20)
    lines = [prefix + (" " * indent if n else "") + line for n, line in enumerate(wrap(text, room))]
    if tail and display_width(lines[-1] + tail) <= width:
        lines[-1] += tail
    elif tail:
        lines.append(prefix + " " * indent + tail.strip())
    return lines


def _verdict_text(diagnosis: Diagnosis, t: Callable[..., str]) -> str:
    """The closing line says ``Diagnosis.verdict``; an inconclusive one also says whether
    the end-to-end check failed or could not run at all."""
    verdict = diagnosis.verdict
    if verdict in (Verdict.CAUSE, Verdict.WARNINGS):
        return t("causes", n=len(diagnosis.causes))
    if verdict is Verdict.HEALTHY:
        return t("reachable")
    return t("unknown") if diagnosis.reachable is None else t("unreachable_none")


def _side(side: str, lang: str) -> str:
    """``host``/``guest`` as the report's header says it (English keeps the bare word)."""
    return side if lang == "en" else side_name(side, lang)


def print_report(diagnosis: Diagnosis, session_id: str | None, lang: str) -> None:
    print(render(diagnosis, session_id, lang, colour=use_colour(sys.stdout)))
