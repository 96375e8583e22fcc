"""Loading the kernel's word for a widget of the Packets screen, off the UI thread.

The path view and the packet detail each ask for it once, when mounted: the walk's
observations come from the engine, whose lock a running step holds, so a thread
worker reads them and posts :class:`KernelMarksLoaded` to the widget itself. The
screen has nothing to wire (its own module is being split by another change).
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widget import Widget

from ..table_sources import session_observations
from .kernel_marks import KernelMarks, kernel_marks


class KernelMarksLoaded(Message):
    """The kernel's verdicts per ping flow, for the widget that asked."""

    def __init__(self, marks: KernelMarks) -> None:
        super().__init__()
        self.marks = marks


def load_marks(widget: Widget) -> None:
    """Start the worker; ``widget`` gets a :class:`KernelMarksLoaded` (also when there are none)."""
    state: Any = getattr(widget.screen, "state", None)
    if getattr(state, "engine", None) is None:
        return

    def work() -> None:  # the session's observations: live, or a replay's selected point
        widget.post_message(KernelMarksLoaded(kernel_marks(session_observations(state))))

    widget.run_worker(work, thread=True, group="kernel-marks", exclusive=True, exit_on_error=False)
