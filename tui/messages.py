"""The messages workers and the engine bridge post to screens: small, immutable, thread-safe.

Nothing here touches a widget. A worker thread builds one of these and posts it
(``post_message`` is thread-safe); the screen's handler, on the UI thread,
updates its widgets. That is the only way data from a probe reaches the screen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from vnetdoctor.knowledge.events import EngineEvent, PlannedStep
from vnetdoctor.knowledge.model import Diagnosis, Fix, Question
from vnetdoctor.probes.vantage import Vantage


class EngineEventPosted(Message):
    """One engine event (StepStarted, StepFinished, DiagnosisReady), from the engine's thread."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event


class PlanReady(Message):
    """The steps of the walk, in order, once the engine has planned them."""

    def __init__(self, steps: list[PlannedStep]) -> None:
        super().__init__()
        self.steps = steps


class RunDone(Message):
    """A step run (or a whole walk) finished: the verdict so far, and the path to capture on."""

    def __init__(
        self,
        diagnosis: Diagnosis,
        path: list[tuple[Vantage, str]],
        *,
        whole_walk: bool,
        step: str | None = None,
    ) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self.path = path
        self.whole_walk = whole_walk
        self.step = step


@dataclass(eq=False)  # identity: one box per question asked, kept in a set
class AnswerBox:
    """Where the UI thread puts the operator's answer for an engine thread waiting on it."""

    question: Question
    event: threading.Event = field(default_factory=threading.Event)
    value: str = ""

    def answer(self, value: str) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()


class QuestionAsked(Message):
    """The engine needs the operator (a question node); its thread waits on ``box``."""

    def __init__(self, box: AnswerBox) -> None:
        super().__init__()
        self.box = box


class FixApplied(Message):
    """A fix command ran (or failed to): exit status and output for the operator and the record."""

    def __init__(self, fix: Fix, step: str | None, returncode: int, output: str, *, undo: bool = False) -> None:
        super().__init__()
        self.fix = fix
        self.undo = undo  # the fix is an applied fix's undo (the changes panel)
        self.step = step
        self.returncode = returncode
        self.output = output


class SessionStarted(Message):
    """The session store created this walk's session (its id is what `replay` takes)."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id


class TargetsFound(Message):
    """The Start screen's discovery worker found candidate targets (and why some are missing)."""

    def __init__(self, targets: list[Any], notes: list[str]) -> None:
        super().__init__()
        self.targets = targets
        self.notes = notes

