"""The walk: the layered flowchart on the left, the selected step (or the verdict) on the right.

This screen owns the engine for its request. Every engine call runs in one
thread worker at a time (the group ``engine``): the worker only posts messages,
and the engine's own events arrive through :class:`~..bridge.EngineBridge` as
messages too, so no widget is ever touched from a thread. Keys that would start
a second engine call while one runs say so instead of queueing it.

Navigation (n/b, the arrows in the sidebar, the palette) never waits for a
probe: panes are built on first view and then updated in place as results come.

The screen is put together from parts that each own one concern (issue 9): running
the engine (walk_running.py), the header (walk_header.py), the detail panes
(walk_panes.py), questions (walk_questions.py), fixes (walk_fixes.py) and changes
(changes.py), on one base that names the state they share (walk_part.py). This
module sets that state up and keeps the layout, the keys (Textual merges
``BINDINGS`` only from widget classes, not from plain parts, and one list keeps the
footer's order), the engine's events turned into widget updates, and navigation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, OptionList
from textual.worker import Worker
from vnetdoctor.knowledge.events import DiagnosisReady, PlannedStep, StepFinished, StepStarted
from vnetdoctor.knowledge.model import Diagnosis, StepResult

from vnetdoctor.session import EngineFactory, Noted, Session

from ..bridge import EngineBridge
from ..i18n import translate_bindings
from ..kb import Knowledge
from ..messages import EngineEventPosted, PlanReady, RunDone, SessionStarted
from ..state import SessionState
from ..widgets.flowchart import PENDING, RUNNING, VERDICT, FlowchartSidebar
from ..widgets.footer import NarrowFooter
from ..widgets.step_detail import StepDetail
from ..widgets.title_bar import TitleBar
from ..widgets.verdict import VerdictView, verdict_status
from .changes import WalkChanges
from .commands import PaletteCommand, ScreenCommands, binding_commands
from .walk_fixes import WalkFixes
from .walk_header import WalkHeader
from .walk_panes import VERDICT_PANE, WalkPanes
from .walk_questions import WalkQuestions
from .walk_running import WalkRunning


class WalkCommands(ScreenCommands):
    """The walk's palette: its keys, plus "go to <step>" for every step of the flowchart."""


class WalkScreen(
    WalkRunning, WalkHeader, WalkPanes, WalkQuestions, WalkFixes, WalkChanges, Screen[None]
):
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
        # Below 70 columns "a run all" leaves the footer (still bound; ? lists it): the rest fits.
        yield NarrowFooter(narrow_drop=("run_all",), compact=True, show_command_palette=False)

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
            self._restart_clock(set(self.results) - set(event.detail["steps"]))
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
        self.query_one(FlowchartSidebar).set_verdict_mark(verdict_status(diagnosis, complete))
        self._update_status()

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
