"""One step of the walk in full: what it checks, how to check it by hand, what it saw.

Built once per step the first time the operator looks at it, then kept: a
re-run updates it in place (an observation or finding whose content did not
change is left alone; new ones are mounted, vanished ones removed), so the
scroll position and the highlighted fix survive a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static
from vnetdoctor.knowledge.events import PlannedStep
from vnetdoctor.knowledge.model import ASK, StepResult
from vnetdoctor.knowledge.text import Translator, duration, layer_name

from ..emphasis import emphasis
from ..kb import Knowledge, StepInfo, choice_label
from .findings import FindingView
from .flowchart import MARK_STYLES, MARKS, PENDING, RUNNING
from .ids import css_id
from .observations import ObservationView, observation_key


class StepDetail(VerticalScroll):
    """The detail pane for one step; ``update_result`` applies a (re-)run's result."""

    DEFAULT_CSS = """
    StepDetail { height: 1fr; padding: 0 1; }
    StepDetail > Static { height: auto; }
    StepDetail > .section { margin-top: 1; text-style: bold underline; }
    StepDetail > Vertical { height: auto; }
    """

    def __init__(
        self,
        planned: PlannedStep,
        tr: Translator,
        kb: Knowledge,
        result: StepResult | None = None,
        status: str = PENDING,
        values: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self._tr = tr
        self._kb = kb
        self.result: StepResult | None = None
        self._initial = result
        self._status = status
        self._ready = False  # composed and mounted: results can be applied to the children
        self._stale = False  # something arrived while hidden: flush() applies it
        # Children by key, updated in place (kept as references: a pane is never re-queried).
        self._obs_views: dict[str, ObservationView] = {}
        self._finding_views: dict[str, FindingView] = {}
        self._mounts = 0  # children mounted so far: a fresh id for each (see _fresh_id)
        self._info: StepInfo | None = kb.step_info(planned.id, tr.lang, values)

    def compose(self) -> ComposeResult:
        tr = self._tr
        yield Static(self._header(), id="step-header")
        yield Static("", id="step-note")
        if self._info and self._info.explain:
            yield Static(tr("walk.what_it_checks"), classes="section")
            yield Static(Text(self._info.explain), id="step-explain")
        if self._info and self._info.by_hand:
            yield Static(tr("walk.by_hand"), classes="section")
            yield Static(self._by_hand(self._info.by_hand), id="step-by-hand")
        yield Static(tr("walk.findings"), classes="section", id="findings-heading")
        yield Vertical(id="findings")
        yield Static(tr("walk.observations"), classes="section", id="obs-heading")
        yield Vertical(id="observations")

    def on_mount(self) -> None:
        self.query_one("#findings-heading").display = False
        self.query_one("#obs-heading").display = False
        self._ready = True
        if self._initial is not None:
            self._apply(self._initial)
        else:
            self._set_note()

    # -- pieces ----------------------------------------------------------------------------
    def _header(self) -> Text:
        status = self.result.status if self.result else self._status
        text = Text()
        text.append(MARKS.get(status, "?") + " ", style=emphasis(MARK_STYLES.get(status, "")))
        text.append(self.planned.title, style="bold")  # the plan's title is in the operator's language
        text.append(f"  [{layer_name(self.planned.layer, self._tr.lang)}]", style="dim")
        # "failed: cause found" only when this step named one; the symptom step fails by
        # what it saw (no reply), and its note says that.
        label = f"status.{status}"
        if status == "fail" and self.result is not None and self.result.findings:
            label = "status.fail_cause"
        text.append("  " + self._tr(label), style=emphasis(MARK_STYLES.get(status, "")))
        if self.result is not None and self.result.duration_ms:
            text.append(f"  {duration(self.result.duration_ms, self._tr.lang)}", style="dim")
        return text

    @staticmethod
    def _by_hand(lines: tuple[str, ...]) -> Text:
        text = Text()
        for i, line in enumerate(lines):
            if i:
                text.append("\n")
            text.append("$ ", style="dim")
            text.append(line)
        return text

    def _set_note(self) -> None:
        tr = self._tr
        note = self.query_one("#step-note", Static)
        if self._status == RUNNING:
            note.update(Text(tr("walk.running_step"), style="italic"))
        elif self.result is None:
            key = "walk.question_hint" if self.planned.kind == "question" else "walk.not_run"
            note.update(Text(tr(key), style="dim"))
        else:
            text = Text(self.result.note or "")
            if self.result.status == ASK and not self.result.answer:
                text.append(("\n" if self.result.note else "") + tr("walk.question_hint"), style="dim")
            if self.result.answer:
                label = choice_label(self.result.step, self.result.answer, tr.lang)
                text.append(("\n" if self.result.note else "") + tr("walk.answered", answer=label), style="bold")
            note.update(text)

    # -- updating --------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self._status = RUNNING if running else (self.result.status if self.result else PENDING)
        if self._ready and self.display:
            self.query_one("#step-header", Static).update(self._header())
            self._set_note()
        else:
            self._stale = True  # repainted by flush() when the pane is shown

    def update_result(self, result: StepResult) -> None:
        """Apply a (re-)run's result, touching only what changed.

        A hidden pane only keeps the result: laying out widgets nobody sees would
        cost the UI thread time while the engine floods it with steps;
        :meth:`flush` applies it when the pane is shown.
        """
        if not self._ready or not self.display:
            self._initial = result
            self._stale = True
            return
        self._apply(result)

    def clear_result(self) -> None:
        """Show the step as not run again (a replay moved back before its first result)."""
        self._initial, self.result, self._status = None, None, PENDING
        if not self._ready:
            return
        empty = StepResult(self.planned.id, self.planned.layer, self.planned.title, PENDING)
        self._sync_findings(empty)
        self._sync_observations(empty)
        self.query_one("#step-header", Static).update(self._header())
        self._set_note()

    def flush(self) -> None:
        """Bring a pane that was hidden up to date (the walk calls it before showing it)."""
        if not self._ready or not self._stale:
            return
        self._stale = False
        if self._initial is not None and self._initial is not self.result:
            self._apply(self._initial)
        else:
            self.query_one("#step-header", Static).update(self._header())
            self._set_note()

    def _fresh_id(self, key: str) -> str:
        """A widget id no earlier child of this pane had.

        ``remove()`` takes effect on a later tick: when a re-run drops an observation
        and the next result (a replay plays them back to back) brings it again, the
        old view is still in the DOM, and re-using its id raised ``DuplicateIds``.
        The views are found through ``_obs_views``/``_finding_views``, never by id.
        """
        self._mounts += 1
        return f"{css_id(key)}-{self._mounts}"

    def _apply(self, result: StepResult) -> None:
        self._stale = False
        self.result = result
        self._status = result.status
        self.query_one("#step-header", Static).update(self._header())
        self._set_note()
        self._sync_findings(result)
        self._sync_observations(result)

    def _sync_observations(self, result: StepResult) -> None:
        box = self.query_one("#observations", Vertical)
        wanted: dict[str, Any] = {}
        for obs in result.observations:
            wanted.setdefault(observation_key(obs), obs)
        for key in list(self._obs_views):
            if key not in wanted:
                self._obs_views.pop(key).remove()
        for key, obs in wanted.items():
            view = self._obs_views.get(key)
            if view is not None:
                view.update_observation(obs)
            else:
                view = ObservationView(obs, self._tr, id=self._fresh_id(key))
                self._obs_views[key] = view
                box.mount(view)
        self.query_one("#obs-heading").display = bool(wanted)

    def _sync_findings(self, result: StepResult) -> None:
        box = self.query_one("#findings", Vertical)
        wanted: dict[str, Any] = {}
        for f in result.findings:
            wanted.setdefault(f.cause, f)
        for key in list(self._finding_views):
            if key not in wanted:
                self._finding_views.pop(key).remove()
        for key, finding in wanted.items():
            view = self._finding_views.get(key)
            if view is not None:
                view.update_finding(finding)
            else:
                view = FindingView(finding, self._tr, self._kb, id=self._fresh_id("finding:" + key))
                self._finding_views[key] = view
                box.mount(view)
        self.query_one("#findings-heading").display = bool(wanted)
