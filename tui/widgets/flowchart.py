"""The flowchart sidebar: layers, their steps with a status mark each, and the verdict.

The marks carry the meaning on their own (✓ pass, ✗ fail, ! warn, ? question,
- skipped, … running, · not run yet) so the sidebar reads on a 16-colour console
and with NO_COLOR; colour only repeats what the mark says. A step's line is
rewritten only when its status or title changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from vnetdoctor.knowledge.events import PlannedStep
from vnetdoctor.knowledge.model import ASK, FAIL, PASS, SKIP, WARN
from vnetdoctor.knowledge.text import Translator, layer_name

from ..emphasis import emphasis
from ..glyphs import GlyphMap
from .list_keys import LIST_KEYS, ListKeys

RUNNING = "running"
PENDING = "pending"
MARKS = GlyphMap({s: s for s in (PASS, FAIL, WARN, SKIP, ASK, RUNNING, PENDING)})
MARK_STYLES = {
    PASS: "green",
    FAIL: "bold red",
    WARN: "yellow",
    ASK: "bold cyan",
    SKIP: "dim",
    RUNNING: "bold",
    PENDING: "dim",
}
VERDICT = "verdict"


def step_option_id(step_id: str) -> str:
    return f"step:{step_id}"


class FlowchartSidebar(ListKeys, OptionList):
    """Layers as headings (not selectable), steps under them, the verdict last."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS

    DEFAULT_CSS = """
    FlowchartSidebar, FlowchartSidebar:focus { border: none; padding: 0; }
    """

    def __init__(self, tr: Translator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tr = tr
        self._steps: list[PlannedStep] = []
        self._status: dict[str, str] = {}
        self._verdict_mark = PENDING

    # -- building ------------------------------------------------------------------------
    def set_plan(self, steps: list[PlannedStep]) -> None:
        """Lay out the walk once: a heading per layer, in the engine's order."""
        self._steps = list(steps)
        self._status = {s.id: self._status.get(s.id, PENDING) for s in steps}
        options: list[Option] = []
        layer = None
        headings = 0
        for step in steps:
            if step.layer != layer:
                # A plan that comes back to a layer gets a second heading (ids stay unique).
                layer = step.layer
                headings += 1
                options.append(Option(self._heading(layer), id=f"layer{headings}:{layer}", disabled=True))
            options.append(Option(self._line(step), id=step_option_id(step.id)))
        options.append(Option(self._verdict_line(), id=VERDICT))
        self.set_options(options)

    def _heading(self, layer: str) -> Text:
        return Text(layer_name(layer, self._tr.lang), style="bold underline", no_wrap=True, overflow="ellipsis")

    def _line(self, step: PlannedStep) -> Text:
        status = self._status.get(step.id, PENDING)
        # One line per step, cut with … rather than wrapped: the detail pane has the full title.
        text = Text(" ", no_wrap=True, overflow="ellipsis")
        text.append(MARKS.get(status, "?"), style=emphasis(MARK_STYLES.get(status, "")))
        text.append(" " + step.title)
        if step.kind == "question" and status == PENDING:
            text.append(" ?", style="dim")
        return text

    def _verdict_line(self) -> Text:
        text = Text(" ", no_wrap=True, overflow="ellipsis")
        text.append(MARKS.get(self._verdict_mark, "·"), style=emphasis(MARK_STYLES.get(self._verdict_mark, "")))
        text.append(" " + self._tr("walk.verdict"), style="bold")
        return text

    # -- updating --------------------------------------------------------------------------
    def set_status(self, step_id: str, status: str, title: str | None = None) -> None:
        """Change one step's mark (and title); other lines are not touched."""
        index = self._index(step_id)
        if index is None:
            return
        step = self._steps[index]
        if title and title != step.title:
            step = PlannedStep(step.id, step.layer, title, step.kind)
            self._steps[index] = step
        elif self._status.get(step_id) == status:
            return
        self._status[step_id] = status
        self.replace_option_prompt(step_option_id(step_id), self._line(step))

    def set_verdict_mark(self, status: str) -> None:
        if status != self._verdict_mark:
            self._verdict_mark = status
            self.replace_option_prompt(VERDICT, self._verdict_line())

    # -- reading -----------------------------------------------------------------------------
    def _index(self, step_id: str) -> int | None:
        for i, step in enumerate(self._steps):
            if step.id == step_id:
                return i
        return None

    @property
    def steps(self) -> list[PlannedStep]:
        return list(self._steps)

    def status(self, step_id: str) -> str:
        return self._status.get(step_id, PENDING)

    def current(self) -> str | None:
        """The highlighted step id, ``"verdict"``, or None."""
        option = self.highlighted_option
        if option is None or option.id is None:
            return None
        if option.id == VERDICT:
            return VERDICT
        return option.id.removeprefix("step:")

    def select(self, item: str) -> None:
        """Highlight a step id or ``"verdict"``."""
        option_id = VERDICT if item == VERDICT else step_option_id(item)
        try:
            self.highlighted = self.get_option_index(option_id)
        except Exception:  # noqa: BLE001 - an unknown id (a step the plan lost) is ignored
            return

    def neighbour(self, item: str | None, delta: int) -> str | None:
        """The step (or verdict) ``delta`` places from ``item`` in walk order."""
        order = [s.id for s in self._steps] + [VERDICT]
        if item is None:
            return order[0] if order else None
        try:
            i = order.index(item)
        except ValueError:
            return order[0]
        j = i + delta
        if 0 <= j < len(order):
            return order[j]
        return None
