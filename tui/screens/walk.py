"""The walk: the layered flowchart on the left, the selected step (or the verdict) on the right.

This screen owns the engine for its request. Every engine call runs in one
thread worker at a time (the group ``engine``): the worker only posts messages,
and the engine's own events arrive through :class:`~..bridge.EngineBridge` as
messages too, so no widget is ever touched from a thread. Keys that would start
a second engine call while one runs say so instead of queueing it.

Navigation (n/b, the arrows in the sidebar, the palette) never waits for a
probe: panes are built on first view and then updated in place as results come.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, OptionList
from textual.worker import Worker, WorkerState
from vnetdoctor.knowledge.catalog import guidance_text
from vnetdoctor.knowledge.events import DiagnosisReady, PlannedStep, StepFinished, StepStarted
from vnetdoctor.knowledge.model import ASK, Diagnosis, Fix, StepResult
from vnetdoctor.probes.vocabulary import Verdict

from vnetdoctor.session import EngineFactory, Noted, Session

from ..bridge import EngineBridge, fallback_answer
from ..emphasis import emphasis
from ..glyphs import glyph
from ..i18n import translate_bindings
from ..kb import Knowledge
from ..messages import (
    AnswerBox,
    EngineEventPosted,
    FixApplied,
    PlanReady,
    QuestionAsked,
    RunDone,
    SessionStarted,
)
from ..state import SessionState
from ..widgets.findings import FixList
from ..widgets.flowchart import PENDING, RUNNING, VERDICT, FlowchartSidebar
from ..widgets.ids import css_id
from ..widgets.step_detail import StepDetail
from ..widgets.title_bar import TitleBar, describe_request
from ..widgets.verdict import VerdictView, verdict_status
from .changes import WalkChanges
from .commands import PaletteCommand, ScreenCommands, binding_commands
from .detail import step_detail
from .dialogs import FixConfirmDialog, QuestionDialog

FIX_TIMEOUT_S = 30.0
# The clock of the progress line (a module name, so snapshot tests can hold it still).
monotonic = time.monotonic
VERDICT_PANE = "pane-verdict"


def pane_id(step_id: str) -> str:
    return css_id(step_id, "pane")


class WalkCommands(ScreenCommands):
    """The walk's palette: its keys, plus "go to <step>" for every step of the flowchart."""


class WalkScreen(WalkChanges, Screen[None]):
    """The guided walk for one request."""

    COMMANDS: ClassVar[set[type[Provider]]] = {WalkCommands}
    HELP_MARKS = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "walk.next", id="walk.next"),
        Binding("b", "back", "walk.back", id="walk.back", show=False),
        Binding("enter", "run_this", "walk.run_this", id="walk.run_this", show=False, key_display="enter"),
        Binding("r", "rerun", "walk.rerun", id="walk.rerun"),
        Binding("a", "run_all", "walk.run_all", id="walk.run_all"),
        Binding("v", "verdict", "walk.goto_verdict", id="walk.verdict", show=False),
        Binding("c", "copy_fix", "walk.copy", id="walk.copy"),
        # With --allow-changes f takes c's place in the footer (80 columns); c still copies.
        Binding("c", "copy_quiet", "walk.copy", id="walk.copy_quiet", show=False),
        Binding("f", "apply_fix", "walk.apply", id="walk.apply"),
        # f where fixes cannot be applied: a one-line hint instead of a dead key (no description:
        # the help lists f only where it applies).
        Binding("f", "fix_hint", id="walk.apply_hint", show=False),
        Binding("x", "changes", "changes.show", id="walk.changes", show=False),  # see help, the verdict
        Binding("p", "packets", "walk.packets", id="walk.packets"),
        Binding("t", "tables", "walk.tables", id="walk.tables"),
        Binding("escape", "leave", "walk.leave", id="walk.leave", show=False),
    ]

    def __init__(
        self,
        state: SessionState,
        engine_factory: EngineFactory,
        knowledge: Knowledge,
        *,
        autorun: bool = True,
    ) -> None:
        super().__init__()
        assert state.request is not None, "the walk needs a request"
        self.state = state
        self.tr = translate_bindings(self, state.lang)
        self.kb = knowledge
        # True: the whole walk runs as soon as it is planned, as an operator expects (every
        # front end). False (step mode): only the symptom step runs, then one step per `n`.
        self.autorun = autorun
        self.bridge = EngineBridge(self)
        # The session runs the engine and fans its events out: to this screen (the bridge),
        # and to the recorder, which the App attaches as `diagnose` does (this screen only
        # renders). The notes are written for a TUI reader: no CLI flag in them (see
        # Request.audience).
        self.session = Session(replace(state.request, audience="tui"), engine_factory, ask=self.bridge.ask,
                               sinks=[self.bridge.on_event])
        self.engine = self.session.engine
        state.engine = self.engine
        state.session = self.session
        self.results: dict[str, StepResult] = {}
        self.diagnosis: Diagnosis | None = None
        self.complete = False
        self.busy: str | None = None  # "plan" | "all" | "step" | "fix" while the engine works
        self._planned: dict[str, PlannedStep] = {}
        self._running_steps: set[str] = set()
        self._jump_to_verdict_from: str | None = None
        self._worker: Worker[None] | None = None  # the engine worker running now, if any
        self._panes: dict[str, StepDetail] = {}
        # The whole-walk run under way (or the last one): when it started, the steps it
        # finished, and whether it ended before its verdict (a failed worker).
        self._run_started: float | None = None
        self._run_done: set[str] = set()
        self._stopped: bool = False
        self._ticker: Timer | None = None

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TitleBar(self._title_left(), Text(self.tr("walk.planning"), style="italic"))
        with Horizontal(id="walk-body"):
            yield FlowchartSidebar(self.tr, id="sidebar")
            with ContentSwitcher(id="detail", initial=VERDICT_PANE):
                yield VerdictView(self.tr, self.kb, id=VERDICT_PANE)
        yield Footer(compact=True, show_command_palette=False)

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

    def on_mount(self) -> None:
        self.session.open()
        self.busy = "plan"
        self._worker = self._plan()

    def on_unmount(self) -> None:
        # Release an engine thread waiting on a question; the App may be exiting. What the
        # engine finishes after this is not recorded: the session ended here.
        self.session.close()
        self.bridge.close()

    def help_intro(self) -> str:
        return self.tr("walk.help_intro")

    # -- workers: every engine call, one at a time ---------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _plan(self) -> None:
        self.post_message(PlanReady(self.session.plan()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _run_all(self) -> None:
        diagnosis = self.session.run()
        self.post_message(RunDone(diagnosis, self.session.path_points(), whole_walk=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _run_step(self, step_id: str) -> None:
        self.session.run_step(step_id)
        diagnosis = self.session.diagnosis()
        self.post_message(RunDone(diagnosis, self.session.path_points(), whole_walk=False, step=step_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _apply_fix(self, fix: Fix, step_id: str | None) -> None:
        # The session runs the fix's argv without a shell (a namespace fix carries `ip netns
        # exec NAME`, a libvirt guest's runs inside the guest through its agent), records it,
        # and refuses guidance. The step is re-run after the outcome is on screen.
        outcome = self.session.apply_fix(fix, step_id, FIX_TIMEOUT_S, rerun=False)
        self.post_message(FixApplied(fix, step_id, outcome.returncode, outcome.output))
        if outcome.refused:
            return
        if step_id:
            self.session.run_step(step_id)
        diagnosis = self.session.diagnosis()
        self.post_message(RunDone(diagnosis, self.session.path_points(), whole_walk=False, step=step_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place engine workers end: free the engine, say what failed, start what follows."""
        if event.worker is not self._worker:
            return  # a worker this screen no longer waits for
        state = event.state
        if state not in (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS):
            return
        kind, self.busy, self._worker = self.busy, None, None
        if kind == "all" and state != WorkerState.SUCCESS:
            self._stopped = True  # the header says where the walk stopped, never a verdict
        for step_id in list(self._running_steps):
            self._set_running(step_id, False)
        self.refresh_bindings()
        self._update_status()
        if state == WorkerState.ERROR:
            error = event.worker.error
            line = f"{type(error).__name__}: {error}".splitlines()[0] if error else "?"
            self.notify(self.tr("walk.worker_failed", error=line), severity="error", timeout=8)
            self.session.note("error", {"error": line})
        elif state == WorkerState.SUCCESS and kind == "plan":
            self._start_initial_run()

    # -- engine messages ----------------------------------------------------------------------
    def _title(self, step_id: str, fallback: str) -> str:
        """The step's title in the operator's language (a replay may have been recorded in another)."""
        info = self.kb.step_info(step_id, self.state.lang)
        return info.title if info is not None and info.title else fallback

    def on_plan_ready(self, message: PlanReady) -> None:
        steps = [replace(s, title=self._title(s.id, s.title)) for s in message.steps]
        self._planned = {s.id: s for s in steps}
        sidebar = self.query_one(FlowchartSidebar)
        sidebar.set_plan(steps)
        self._update_status()
        if not message.steps:
            sidebar.select(VERDICT)
            return
        sidebar.select(steps[0].id)
        sidebar.focus()

    def _start_initial_run(self) -> None:
        """After planning: the whole walk (demo, replay) or the first step (a guided walk)."""
        steps = self.query_one(FlowchartSidebar).steps
        if self.busy is not None or not steps:
            return
        if self.autorun:
            self._start_all()
        else:
            self._start_step(steps[0].id)

    def on_engine_event_posted(self, message: EngineEventPosted) -> None:
        event = message.event
        if isinstance(event, StepStarted):
            self._set_running(event.step, True)
            self._update_status(running=event.step)
        elif isinstance(event, StepFinished):
            if self.busy == "all":
                self._run_done.add(event.result.step)
            self._apply_result(event.result)
        elif isinstance(event, DiagnosisReady):
            self._show_diagnosis(event.diagnosis, complete=True)
        elif isinstance(event, Noted) and event.kind == "rewalk":  # a fix changed the outcome
            self._run_started, self._run_done = monotonic(), set(self.results) - set(event.detail["steps"])
            self.busy = "all"  # the header counts the walk again, as for `a`

    def on_run_done(self, message: RunDone) -> None:
        self.state.path_ifaces = list(message.path)
        # Results may not all have come through events (an engine that only returns them).
        for result in message.diagnosis.steps:
            if self.results.get(result.step) is not result:
                self._apply_result(result)
        complete = message.whole_walk or (bool(self._planned) and set(self._planned) <= set(self.results))
        self._show_diagnosis(message.diagnosis, complete=complete)
        if message.whole_walk and self._jump_to_verdict_from is not None:
            sidebar = self.query_one(FlowchartSidebar)
            if sidebar.current() == self._jump_to_verdict_from:
                sidebar.select(VERDICT)
            self._jump_to_verdict_from = None

    def on_question_asked(self, message: QuestionAsked) -> None:
        box = message.box
        step = self._planned.get(box.question.step)
        self.app.push_screen(
            QuestionDialog(box.question, self.state.lang, step.title if step else ""),
            lambda answer: self._answered(box, answer),
        )

    def _answered(self, box: AnswerBox, answer: str | None) -> None:
        value = answer if answer is not None else fallback_answer(box.question)
        box.answer(value)  # the session records the answer once the engine has it

    def on_fix_applied(self, message: FixApplied) -> None:
        ok = message.returncode == 0
        last = message.output.splitlines()[-1] if message.output else ""
        if ok:
            self.notify(self.tr("changes.undone_toast" if message.undo else "fix.applied",
                                command=message.fix.command), timeout=6)
        else:
            self.notify(self.tr("fix.failed", code=message.returncode, output=last), severity="error", timeout=10)

    def on_session_started(self, message: SessionStarted) -> None:
        self.state.session_id = message.session_id

    # -- applying results to the widgets --------------------------------------------------------
    def _apply_result(self, result: StepResult) -> None:
        self.results[result.step] = result
        self._running_steps.discard(result.step)
        self.query_one(FlowchartSidebar).set_status(result.step, result.status)
        pane = self._pane(result.step, create=False)
        if pane is not None:
            pane.update_result(result)
        self._update_status()

    def _set_running(self, step_id: str, running: bool) -> None:
        if running:
            self._running_steps.add(step_id)
        else:
            self._running_steps.discard(step_id)
        previous = self.results[step_id].status if step_id in self.results else PENDING
        self.query_one(FlowchartSidebar).set_status(step_id, RUNNING if running else previous)
        pane = self._pane(step_id, create=False)
        if pane is not None:
            pane.set_running(running)

    def _show_diagnosis(self, diagnosis: Diagnosis, *, complete: bool) -> None:
        self.diagnosis = diagnosis
        self.query_one(TitleBar).set_left(self._title_left())
        self.complete = self.complete or complete
        if complete:
            self._stopped = False
        self.query_one(VerdictView).show(diagnosis, total_steps=len(self._planned), complete=complete)
        self.query_one(FlowchartSidebar).set_verdict_mark(verdict_status(diagnosis))
        self._update_status()

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
        if verdict in (Verdict.CAUSE, Verdict.WARNINGS):
            cause = verdict is Verdict.CAUSE
            text = Text(glyph("fail" if cause else "warn") + " ", style=emphasis("bold red" if cause else "bold yellow"))
            text.append(d.causes[0].cause, style="bold")
            if len(d.causes) > 1:
                text.append(f" +{len(d.causes) - 1}")
        elif verdict is Verdict.HEALTHY:
            text = Text(glyph("pass") + " " + self.tr("walk.status_healthy"), style=emphasis("bold green"))
        else:
            text = Text(glyph("ask") + " " + self.tr("walk.status_inconclusive"), style=emphasis("bold yellow"))
        bar.set_right(self.with_before(text))

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

    def _pane(self, item: str, *, create: bool = True) -> StepDetail | None:
        """The detail pane of a step, built on first use (so opening the walk stays cheap).

        Mounted directly (not with ``add_content``, which mounts later): the pane is
        in the DOM at once, so the switcher can show it in the same handler.
        """
        pane = self._panes.get(item)
        if pane is not None or not create or item not in self._planned:
            return pane
        status = RUNNING if item in self._running_steps else PENDING
        pane = StepDetail(
            self._planned[item], self.tr, self.kb, self.results.get(item), status, self._template_values(),
            id=pane_id(item),
        )
        pane.display = False
        self._panes[item] = pane
        self.query_one("#detail", ContentSwitcher).mount(pane)
        return pane

    def _template_values(self) -> dict[str, object]:
        """What the by-hand commands can be filled with from the request (the rest stay <name>)."""
        request = self.state.request
        values: dict[str, object] = {}
        if request is None:
            return values
        target = self.diagnosis.target if self.diagnosis and self.diagnosis.target else request.target
        values["target"] = target
        values["tcp_port"] = request.port
        if request.guest is not None and request.guest.kind == "libvirt":
            values["domain"] = request.guest.name
        return values

    def _show(self, item: str | None) -> None:
        if item is None:
            return
        switcher = self.query_one("#detail", ContentSwitcher)
        if item == VERDICT:
            self.query_one(VerdictView).flush()
            switcher.current = VERDICT_PANE
            return
        pane = self._pane(item)
        if pane is not None:
            pane.flush()
            switcher.current = pane.id

    # -- navigation ---------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#sidebar")
    def _sidebar_moved(self, event: OptionList.OptionHighlighted) -> None:
        self._show(self.query_one(FlowchartSidebar).current())

    @on(OptionList.OptionSelected, "#sidebar")
    def _sidebar_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_run_this()

    @on(OptionList.OptionSelected, "FixList")
    def _fix_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_copy_fix()

    def _current(self) -> str | None:
        return self.query_one(FlowchartSidebar).current()

    def action_next(self) -> None:
        sidebar = self.query_one(FlowchartSidebar)
        target = sidebar.neighbour(sidebar.current(), +1)
        if target is None:
            return
        sidebar.select(target)
        if target != VERDICT and target not in self.results and self.busy is None:
            self._start_step(target)

    def action_back(self) -> None:
        sidebar = self.query_one(FlowchartSidebar)
        target = sidebar.neighbour(sidebar.current(), -1)
        if target is not None:
            sidebar.select(target)

    def action_verdict(self) -> None:
        self.query_one(FlowchartSidebar).select(VERDICT)

    def goto(self, item: str) -> None:
        self.query_one(FlowchartSidebar).select(item)

    # -- running ------------------------------------------------------------------------------------
    def _refuse_busy(self) -> bool:
        if self.busy is None:
            return False
        self.notify(self.tr("walk.busy"), severity="warning", timeout=3)
        return True

    def _start_step(self, step_id: str) -> None:
        self.busy = "step"
        self.refresh_bindings()
        self._worker = self._run_step(step_id)

    def _start_all(self) -> None:
        self.busy = "all"
        self._jump_to_verdict_from = self._current()
        self._run_started = monotonic()
        self._run_done = set()
        self._stopped = False
        self.refresh_bindings()
        self._update_status()
        self._worker = self._run_all()
        # The elapsed time moves while one slow probe runs (a capture, a ping with timeouts).
        self._ticker = self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        if self.busy == "all":
            self._update_status()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def action_run_this(self) -> None:
        """Enter: run the highlighted step if it has not run, or answer its question; one that
        ran (or any in a replay) opens in full: its whole note, findings and probes."""
        current = self._current()
        if current is None or current == VERDICT:
            return
        result = self.results.get(current)
        if result is not None and (result.status != ASK or self.state.replay):
            self.app.push_screen(step_detail(result, self.tr))
        elif not self.state.replay and not self._refuse_busy():
            self._start_step(current)

    def action_rerun(self) -> None:
        current = self._current()
        if current is None or self._refuse_busy():
            return
        if current == VERDICT:
            self._start_all()
        else:
            self._start_step(current)

    def action_run_all(self) -> None:
        if not self._refuse_busy():
            self._start_all()

    # -- fixes -----------------------------------------------------------------------------------------
    def _selected_fix(self) -> tuple[Fix | None, str | None]:
        """The highlighted fix in the visible pane (the focused list first) and its step."""
        focused = self.focused
        lists: list[FixList] = []
        if isinstance(focused, FixList):
            lists.append(focused)
        switcher = self.query_one("#detail", ContentSwitcher)
        visible = switcher.visible_content
        if visible is not None:
            lists.extend(fl for fl in visible.query(FixList) if fl.fixes)
        for fix_list in lists:
            fix = fix_list.selected_fix()
            if fix is not None:
                return fix, self._step_of(fix)
        return None, None

    def _step_of(self, fix: Fix) -> str | None:
        for step_id, result in self.results.items():
            for finding in result.findings:
                if fix in finding.fixes:
                    return step_id
        return None

    def _refuse_guidance(self, fix: Fix) -> bool:
        """Guidance is never copied or applied: it has no command. Say so."""
        if fix.runnable:
            return False
        self.notify(self.tr("walk.guidance_only", guidance=guidance_text(fix, self.state.lang)),
                    severity="warning", timeout=5)
        return True

    def action_copy_fix(self) -> None:
        fix, step = self._selected_fix()
        if fix is None:
            self.notify(self.tr("walk.no_fix"), severity="warning", timeout=3)
            return
        if self._refuse_guidance(fix):
            return
        self.app.copy_to_clipboard(fix.command)
        self.notify(self.tr("walk.copied", command=fix.command), timeout=4)
        self.session.note("fix_copied", {**fix.to_dict(), "step": step})

    action_copy_quiet = action_copy_fix

    def action_apply_fix(self) -> None:
        if not self.state.allow_changes or self.state.replay:
            self.notify(self.tr("walk.changes_off"), severity="warning", timeout=4)
            return
        fix, step = self._selected_fix()
        if fix is None:
            self.notify(self.tr("walk.no_fix"), severity="warning", timeout=3)
            return
        if self._refuse_guidance(fix) or self._refuse_busy():
            return
        if self.session.refusal(fix) is not None:
            self.notify(self.tr("walk.not_here", where=fix.where), severity="warning", timeout=5)
            return

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self.session.note("fix_cancelled", {**fix.to_dict(), "step": step})
                return
            if self._refuse_busy():
                return
            self.busy = "fix"
            self.refresh_bindings()
            self._worker = self._apply_fix(fix, step)

        self.app.push_screen(FixConfirmDialog(fix, self.state.lang), confirmed)

    def action_fix_hint(self) -> None:
        """Say why f does nothing here and what works instead (c copies the fix)."""
        self.notify(self.tr("walk.changes_hint"), severity="warning", timeout=5)

    # -- other screens ------------------------------------------------------------------------------------
    def action_packets(self) -> None:
        from .packets import PacketsScreen

        self.app.push_screen(PacketsScreen(self.state))

    def action_tables(self) -> None:
        from .tables import TablesScreen

        self.app.push_screen(TablesScreen(self.state))

    def action_leave(self) -> None:
        """Esc: back to the Start screen when the walk was opened from it."""
        if self.can_leave():
            self.app.pop_screen()

    def can_leave(self) -> bool:
        from .start import StartScreen

        stack = self.app.screen_stack
        return len(stack) >= 2 and isinstance(stack[-2], StartScreen) and self.busy != "fix"

    def blocks_quit(self) -> str | None:
        """A reason not to quit now: a fix is being applied (its outcome must be recorded)."""
        return self.tr("walk.fix_running") if self.busy == "fix" else None

    # -- what keys are offered ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rerun", "run_all", "run_this") and self.state.replay:
            return False  # a replay runs nothing
        if action in ("apply_fix", "changes", "copy_quiet"):
            return bool(self.state.allow_changes and not self.state.replay)
        if action == "copy_fix":
            return not (self.state.allow_changes and not self.state.replay)
        if action == "fix_hint":
            return not self.state.allow_changes and not self.state.replay
        if action == "leave":
            return self.can_leave()
        if action in ("rerun", "run_all") and self.busy is not None:
            return None  # shown dimmed while the engine works
        return True

    def palette_commands(self) -> list[PaletteCommand]:
        commands = binding_commands(self)
        for step in self.query_one(FlowchartSidebar).steps:
            goto = self.tr("walk.goto", step=step.title)
            commands.append(PaletteCommand(goto, step.id, lambda s=step.id: self.goto(s)))
        return commands
