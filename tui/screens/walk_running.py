"""The walk's engine at work: one thread worker at a time, and the keys that start one.

:class:`WalkRunning` is the walk screen's part that runs the engine (issue 9 split it
out of walk.py). Every engine call runs in a thread worker of the group ``engine``
that only posts messages; :meth:`WalkRunning.on_worker_state_changed` is the one
place such a worker ends. ``busy`` says what the engine is doing ("plan", "all",
"step" or "fix"), and a key that would start a second call while one runs says so
instead of queueing it.
"""

from __future__ import annotations

from textual import work
from textual.worker import Worker, WorkerState

from vnetdoctor.knowledge.model import ASK

from ..messages import PlanReady, RunDone
from ..widgets.flowchart import VERDICT, FlowchartSidebar
from .detail import step_detail
from .walk_part import WalkPart


class WalkRunning(WalkPart):
    """The walk screen's engine calls: plan, the whole walk, one step; and r, a and enter."""

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

    # -- starting them -------------------------------------------------------------------------
    def _start_initial_run(self) -> None:
        """After planning: the whole walk (demo, replay) or the first step (a guided walk)."""
        steps = self.query_one(FlowchartSidebar).steps
        if self.busy is not None or not steps:
            return
        if self.autorun:
            self._start_all()
        else:
            self._start_step(steps[0].id)

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
        self._restart_clock(set())
        self._stopped = False
        self.refresh_bindings()
        self._update_status()
        self._worker = self._run_all()
        self._start_ticker()

    # -- the keys that run ---------------------------------------------------------------------
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
