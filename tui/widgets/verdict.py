"""The verdict: reachable or not, the causes most fundamental first, their proof and fixes.

What the operator came for. It is a pane of the walk (the last entry of the
sidebar) and fills in as steps finish: a partial verdict says how many steps
have run, so nobody mistakes "nothing found yet" for "healthy".
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from vnetdoctor.knowledge.model import FAIL, PASS, WARN, Diagnosis
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.knowledge.took import took_text
from vnetdoctor.knowledge.verdict_hint import capability_hint
from vnetdoctor.probes.vocabulary import Verdict

from ..emphasis import emphasis
from ..glyphs import glyph
from ..kb import Knowledge
from .findings import FindingView
from .flowchart import PENDING
from .ids import css_id
from .verified import verified_lines


def verdict_status(diagnosis: Diagnosis | None, complete: bool = True) -> str:
    """The verdict's own mark: ✗ a cause named, ✓ reachable and clean, ! only warnings or
    inconclusive. A mark for ``Diagnosis.verdict``, never decided again here; a walk that
    has not finished is not inconclusive yet (its verdict pane says "no verdict yet")."""
    if diagnosis is None or (not complete and diagnosis.verdict is Verdict.INCONCLUSIVE):
        return PENDING
    return _VERDICT_MARK[diagnosis.verdict]


_VERDICT_MARK = {
    Verdict.CAUSE: FAIL,
    Verdict.HEALTHY: PASS,
    Verdict.WARNINGS: WARN,
    Verdict.INCONCLUSIVE: WARN,
    Verdict.NOT_RUN: PENDING,
}


class VerdictView(VerticalScroll):
    """The verdict pane; ``show`` applies a new diagnosis, keeping unchanged findings."""

    DEFAULT_CSS = """
    VerdictView { height: 1fr; padding: 0 1; }
    VerdictView > Static { height: auto; }
    VerdictView > Vertical { height: auto; }
    """

    def __init__(self, tr: Translator, kb: Knowledge, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tr = tr
        self._kb = kb
        self.diagnosis: Diagnosis | None = None
        self._pending: tuple[Diagnosis, int, bool] | None = None
        self._views: dict[str, FindingView] = {}  # by cause id: updated in place, never re-queried
        self._mounts = 0
        self._total_steps = 0

    def compose(self) -> ComposeResult:
        yield Static(Text(self._tr("verdict.none_yet"), style="dim"), id="verdict-headline")
        change = Static("", id="verdict-change")  # shown once a fix changed the verdict (set_change)
        change.display = False
        yield change
        yield Vertical(id="verdict-causes")

    def show(self, diagnosis: Diagnosis, *, total_steps: int, complete: bool) -> None:
        """Apply a verdict now if the pane is visible, else when :meth:`flush` shows it."""
        self.diagnosis = diagnosis
        self._pending = (diagnosis, total_steps, complete)
        if self.display and self.is_mounted:
            self.flush()

    def set_change(self, line: Text | None) -> None:
        """What a fix applied in this session changed: ``was: CAUSE → now: healthy`` and the fix."""
        change = self.query_one("#verdict-change", Static)
        change.display = line is not None
        change.update(line if line is not None else "")

    def flush(self) -> None:
        if self._pending is None:
            return
        diagnosis, total_steps, complete = self._pending
        self._pending = None
        self._total_steps = total_steps
        self.query_one("#verdict-headline", Static).update(self._headline(diagnosis, complete))
        box = self.query_one("#verdict-causes", Vertical)
        wanted: dict[str, tuple[int, Any]] = {}
        for i, f in enumerate(diagnosis.causes, 1):
            wanted.setdefault(f.cause, (i, f))
        for cause in list(self._views):
            if cause not in wanted:
                self._views.pop(cause).remove()
        for cause, (index, finding) in wanted.items():
            view = self._views.get(cause)
            if view is not None:
                view.update_finding(finding, index)
            else:
                # A fresh id each mount: a removed view leaves the DOM only on a later tick,
                # and a replay can bring the same cause back before that (DuplicateIds).
                self._mounts += 1
                view = FindingView(finding, self._tr, self._kb, index,
                                   id=f"{css_id(cause, 'cause')}-{self._mounts}")
                self._views[cause] = view
                box.mount(view)

    def _headline(self, d: Diagnosis, complete: bool) -> Text:
        tr = self._tr
        verdict = d.verdict
        text = Text()
        target = d.target or d.request.target or "?"
        if d.reachable is True:
            text.append(glyph("pass") + " " + tr("verdict.reachable", target=target), style=emphasis("bold green"))
        elif d.reachable is False:
            text.append(glyph("fail") + " " + tr("verdict.unreachable", target=target), style=emphasis("bold red"))
        else:
            text.append(glyph("ask") + " " + tr("verdict.unknown_reach", target=target), style="bold")
        info = lambda step: getattr(self._kb.step_info(step, tr.lang), "title", None)  # noqa: E731
        fails = [f for f in d.causes if f.severity == FAIL]
        text.append("\n")
        if verdict is Verdict.CAUSE:
            text.append(tr("verdict.causes", n=len(fails)), style="bold")
        elif verdict is Verdict.HEALTHY:
            text.append(tr("verdict.healthy"), style=emphasis("green"))
            verified = verified_lines(d, tr, info)
            if verified:
                text.append("\n" + tr("verdict.verified"), style="bold")
                text.append("".join(f"\n • {line}" for line in verified))
        elif verdict is Verdict.WARNINGS:
            text.append(tr("verdict.only_warnings", n=len(d.causes)), style=emphasis("yellow"))
        elif complete:
            text.append(tr("verdict.inconclusive"), style=emphasis("yellow"))
            hint = capability_hint(d, tr.lang)
            if hint:
                text.append("\n" + hint, style="bold")
        else:
            # "Inconclusive" only once the walk ran: before that (a replay at its start, a
            # step-by-step walk) nothing has been concluded yet, as the header says.
            text.append(tr("verdict.pending"), style="dim")
        # An answer that failed a step names no cause id (the flowchart has none for it), but
        # the operator said what is wrong: the verdict repeats it, marked as their word.
        # A warning answer (the cable looks fine, yet no carrier) is repeated the same way.
        for s in d.steps:
            if s.answer and s.status in (FAIL, WARN) and not s.findings:
                fail = s.status == FAIL
                text.append(f"\n{glyph('fail' if fail else 'warn')} {s.title}: {s.note} ",
                            style=emphasis("bold red" if fail else "bold yellow"))
                text.append(f"({tr('verdict.your_answer')})", style="italic")
        if not complete:
            done = len(d.steps)
            text.append("\n" + tr("verdict.partial", done=done, total=self._total_steps), style="dim italic")
        if d.duration_ms:
            took = d.extra.get("took") if d.extra else None
            text.append("\n" + took_text(took, d.duration_ms, tr.lang, info), style="dim")
        return text
