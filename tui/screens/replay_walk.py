"""The walk of a replay, steerable: pause, play, step through the recorded moments, jump to either end.

A replay opens where the session ended (its verdict, as the operator left it) and
paused; the timeline under the walk lists every recorded moment — steps, answers,
fixes offered, applied and undone, re-runs — and the keys move through them:
space plays or pauses, ←/→ (h/l) step one moment, Home/End (g/G) jump to the
start or the end. The replay session moves (:meth:`TimelineReplay.seek`) and its
events update the walk as a live run's would; the Packets and Tables screens
opened from here ask the same session, so they show the selected point too.

Everything else is the walk (:class:`.walk.WalkScreen`): this subclass only adds
the timeline, its keys and the handling of "this step had not run yet".
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Footer

from vnetdoctor.session.replay import ReplayMoved, StepCleared

from ..messages import EngineEventPosted
from ..widgets.flowchart import PENDING, FlowchartSidebar
from ..widgets.timeline import TimelineBar
from .walk import WalkScreen

PLAY_INTERVAL = 0.8  # seconds per moment while playing: time to read what changed
STEP_KEYS = Binding.Group("replay.key.step", compact=True)  # "←→ step" in the footer


class ReplayWalkScreen(WalkScreen):
    """The walk over a recorded session, with a timeline to steer it."""

    # Priority: the sidebar's list keys (g/G, Home/End) would take them first; in a
    # replay they move through time (up/down still move through the steps).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "replay.key.play", id="replay.play", priority=True),
        # g/G and Home/End are named on the timeline's own line (the footer is full at 60 columns).
        Binding("left", "step(-1)", "replay.key.back", id="replay.back", priority=True, group=STEP_KEYS,
                key_display="←"),
        Binding("right", "step(1)", "replay.key.forward", id="replay.forward", priority=True, group=STEP_KEYS,
                key_display="→"),
        Binding("g", "jump('start')", "replay.key.start", id="replay.start_g", priority=True, show=False),
        Binding("G", "jump('end')", "replay.key.end", id="replay.end_g", priority=True, show=False),
        Binding("h", "step(-1)", "replay.key.back", id="replay.back_h", priority=True, show=False),
        Binding("l", "step(1)", "replay.key.forward", id="replay.forward_l", priority=True, show=False),
        Binding("home", "jump('start')", "replay.key.start", id="replay.start", priority=True, show=False),
        Binding("end", "jump('end')", "replay.key.end", id="replay.end", priority=True, show=False),
        # n/b still move through the steps (never run one) and c copies a fix; the footer's
        # room goes to the timeline (the help lists them all).
        Binding("n", "next", "walk.next", id="walk.next", show=False),
        Binding("c", "copy_fix", "walk.copy", id="walk.copy", show=False),
    ]

    def __init__(self, *args: Any, play_interval: float = PLAY_INTERVAL, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.play_interval = play_interval
        self._player: Timer | None = None

    @property
    def timeline(self) -> Any:
        return getattr(self.engine, "timeline", None)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer) and self.timeline is not None:
                yield TimelineBar(self.timeline.moments, self.tr, self._step_title, id="timeline")
            yield widget

    def _step_title(self, step_id: str) -> str:
        planned = self._planned.get(step_id)
        return planned.title if planned is not None else self._title(step_id, step_id)

    def help_intro(self) -> str:
        return self.tr("replay.help_intro") + "\n\n" + super().help_intro()

    # -- the replay's own events ---------------------------------------------------------------
    def on_engine_event_posted(self, message: EngineEventPosted) -> None:
        # Only the replay's own events: Textual then calls WalkScreen's handler for the
        # same message itself (it calls every class's handler), which does the rest.
        event = message.event
        if isinstance(event, StepCleared):
            self._clear_step(event.step)
        elif isinstance(event, ReplayMoved):
            frame = event.frame
            self.complete = False  # the verdict shown is the one this point supports
            self._show_diagnosis(frame.diagnosis, complete=frame.complete)
            self.query_one(TimelineBar).show(frame.position)

    def _clear_step(self, step_id: str) -> None:
        """The selected point is before this step's first result: it shows as not run."""
        self.results.pop(step_id, None)
        self.query_one(FlowchartSidebar).set_status(step_id, PENDING)
        pane = self._panes.get(step_id)
        if pane is not None:
            pane.clear_result()

    def _start_step(self, step_id: str) -> None:
        """A replay runs nothing: moving to a step that had not run at this point only shows it."""

    # -- steering --------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return int(getattr(self.engine, "position", 0))

    def _seek(self, position: int) -> bool:
        """Move the replay; False while the initial playback still runs (it owns the engine)."""
        if self.timeline is None or self.busy is not None:
            return False
        position = max(0, min(position, len(self.timeline)))
        if position != self.position or position == len(self.timeline):
            self.engine.seek(position)
        return True

    def action_step(self, delta: int) -> None:
        self._pause()
        if not self._seek(self.position + delta):
            self._refuse_busy()  # says why: the replay is still reading its record

    def action_jump(self, where: str) -> None:
        self._pause()
        if not self._seek(0 if where == "start" else len(self.timeline or ())):
            self._refuse_busy()

    def action_play(self) -> None:
        if self._player is not None:
            self._pause()
            return
        if self.timeline is None or self.busy is not None:
            return
        if self.position >= len(self.timeline):
            self._seek(0)  # played to the end: space plays it again from the start
        self._player = self.set_interval(self.play_interval, self._tick_play)
        self.query_one(TimelineBar).show(self.position, playing=True)

    def _tick_play(self) -> None:
        if self.timeline is None or self.position >= len(self.timeline):
            self._pause()
            return
        self._seek(self.position + 1)
        if self.position >= len(self.timeline):
            self._pause()

    def _pause(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
        if self.timeline is not None:
            self.query_one(TimelineBar).show(self.position, playing=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("play", "step", "jump"):
            return self.timeline is not None
        return super().check_action(action, parameters)

    def on_unmount(self) -> None:
        # WalkScreen's on_unmount (closing the session) runs after this one, by Textual.
        if self._player is not None:
            self._player.stop()
            self._player = None


__all__ = ["ReplayWalkScreen"]
