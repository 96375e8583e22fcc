"""The walk's title bar: who cannot reach whom on the left; planning, progress or the verdict on the right.

:class:`WalkHeader` is the walk screen's part that writes the header (issue 9 split it
out of walk.py). It owns the clock of the whole-walk progress line, so that line's
seconds are read in one place: snapshot tests hold :data:`monotonic` still here.
The state it reads (busy, the plan, the results, the run under way) is the walk's.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text

from vnetdoctor.probes.vocabulary import Verdict

from ..emphasis import emphasis
from ..glyphs import glyph
from ..widgets.title_bar import TitleBar, describe_request
from .walk_part import WalkPart

if TYPE_CHECKING:
    from vnetdoctor.knowledge.model import Diagnosis

# The clock of the progress line (a module name, so snapshot tests can hold it still).
monotonic = time.monotonic
TICK_S = 0.5  # how often the elapsed time moves while the whole walk runs


class WalkHeader(WalkPart):
    """The walk screen's header: the request and mode, and a status that never claims a verdict early."""

    def _title_left(self) -> Text:
        """Mode first (it must survive truncation at 80 columns), then who cannot reach whom."""
        text = Text()
        if self.state.replay:
            text.append("[" + self.tr("walk.replay_tag") + "]", style="reverse")
            text.append(" ")
        elif self.state.allow_changes:
            text.append("[" + self.tr("walk.changes_tag") + "]", style=emphasis("bold red"))
            text.append(" ")
        request, found = self.state.request, self.diagnosis.target if self.diagnosis else None
        if request is not None and not request.target and found:  # "(address to be found)" was found
            request = replace(request, target=found)
        text.append(describe_request(request, self.tr), style="bold")
        if self.state.scenario:
            text.append(f"  lab:{self.state.scenario}", style="dim")
        return text

    # -- the whole walk's clock ------------------------------------------------------------------
    def _restart_clock(self, done: set[str]) -> None:
        """A whole walk starts counting now, with ``done`` already behind it (a re-walk after a fix)."""
        self._run_started, self._run_done = monotonic(), done

    def _start_ticker(self) -> None:
        # The elapsed time moves while one slow probe runs (a capture, a ping with timeouts).
        self._ticker = self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        if self.busy == "all":
            self._update_status()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    # -- the right side ----------------------------------------------------------------------------
    def _update_status(self, running: str | None = None) -> None:
        """The header's right side: planning, the walk's progress, where it stopped, or the verdict.

        A verdict is shown only when it is one: a cause (or warning) named is shown at
        once, but "inconclusive" and "healthy" speak for the whole walk, so they wait
        until every step has run; before that the header counts the steps run.
        """
        bar = self.query_one(TitleBar)
        if running is None and self._running_steps:
            running = next(iter(self._running_steps))
        if self.busy == "plan":
            bar.set_right(Text(self.tr("walk.planning"), style="italic"))
            return
        total = len(self._planned)
        if self.busy == "all":
            bar.set_right(self._progress_text(running, total))
            return
        if running is not None:
            step = self._planned.get(running)
            bar.set_right(Text(glyph("running") + " " + self.tr("walk.running", step=step.title if step else running), style="italic"))
            return
        if self._stopped:
            done = len(self._run_done)
            bar.set_right(Text("■ " + self.tr("walk.stopped_at", done=done, total=total),
                               style=emphasis("bold yellow")))
            return
        d = self.diagnosis
        verdict = d.verdict if d is not None else None
        if d is None or (not self.complete and verdict not in (Verdict.CAUSE, Verdict.WARNINGS)):
            done = len(self.results)
            bar.set_right(Text(self.tr("walk.progress", done=done, total=total), style="dim"))
            return
        bar.set_right(self.with_before(self._verdict_text(d)))

    def _verdict_text(self, d: Diagnosis) -> Text:
        """``✗ CAUSE +1``, ``⚠ CAUSE``, ``✓ healthy`` or ``? inconclusive``: the verdict in a few columns."""
        verdict = d.verdict
        if verdict in (Verdict.CAUSE, Verdict.WARNINGS):
            cause = verdict is Verdict.CAUSE
            text = Text(glyph("fail" if cause else "warn") + " ", style=emphasis("bold red" if cause else "bold yellow"))
            text.append(d.causes[0].cause, style="bold")
            if len(d.causes) > 1:
                text.append(f" +{len(d.causes) - 1}")
            return text
        if verdict is Verdict.HEALTHY:
            return Text(glyph("pass") + " " + self.tr("walk.status_healthy"), style=emphasis("bold green"))
        return Text(glyph("ask") + " " + self.tr("walk.status_inconclusive"), style=emphasis("bold yellow"))

    def _progress_text(self, running: str | None, total: int) -> Text:
        """"7/20 · 1.2 s · running: Routing table" while the whole walk runs."""
        done = len(self._run_done)
        seconds = monotonic() - self._run_started if self._run_started is not None else 0.0
        if running is not None:
            step = self._planned.get(running)
            line = self.tr("walk.run_progress", done=done, total=total, seconds=f"{seconds:.1f}",
                           step=step.title if step else running)
        else:
            line = self.tr("walk.run_progress_idle", done=done, total=total, seconds=f"{seconds:.1f}")
        return Text(glyph("running") + " " + line, style="italic")
