"""What every part of the walk screen shares: the walk's state, named once.

The walk screen (walk.py) is put together from parts, one concern each (issue 9):
running the engine, the header, the detail panes, questions, fixes, changes. Each
part is a class the screen inherits from, and :class:`WalkPart` is their common base:
it declares the state :class:`~.walk.WalkScreen` sets up and the parts read and write,
so each part's methods are read (and type-checked) against one list. For a type
checker the base is the Textual screen (a part calls ``notify``, ``query_one``,
``app``); at run time it is a plain class, and the screen itself is the one Screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.worker import Worker

    from vnetdoctor.knowledge.events import PlannedStep
    from vnetdoctor.knowledge.model import Diagnosis, StepResult
    from vnetdoctor.knowledge.text import Translator
    from vnetdoctor.session import Session

    from ..kb import Knowledge
    from ..state import SessionState
    from ..widgets.step_detail import StepDetail

    _Base = Screen[None]
else:
    _Base = object


class WalkPart(_Base):
    """The base of the walk screen's parts: the state they share (set by ``WalkScreen.__init__``)."""

    state: SessionState
    tr: Translator
    kb: Knowledge
    session: Session
    autorun: bool  # the whole walk runs once planned (False: one step per `n`)
    busy: str | None  # "plan" | "all" | "step" | "fix" while the engine works
    results: dict[str, StepResult]
    diagnosis: Diagnosis | None
    complete: bool  # every step has run (a verdict that speaks for the whole walk may show)
    _planned: dict[str, PlannedStep]
    _running_steps: set[str]
    _jump_to_verdict_from: str | None
    _worker: Worker[None] | None  # the engine worker running now, if any
    _panes: dict[str, StepDetail]
    # The whole-walk run under way (or the last one): when it started, the steps it
    # finished, whether it ended before its verdict, and the timer that moves its clock.
    _run_started: float | None
    _run_done: set[str]
    _stopped: bool
    _ticker: Timer | None

    if TYPE_CHECKING:  # what one part calls on another (each is defined once, in its part)
        def _current(self) -> str | None: ...
        def _refuse_busy(self) -> bool: ...
        def _set_running(self, step_id: str, running: bool) -> None: ...
        def _update_status(self, running: str | None = None) -> None: ...
        def _restart_clock(self, done: set[str]) -> None: ...
        def _start_ticker(self) -> None: ...
        def with_before(self, now: Text) -> Text: ...
