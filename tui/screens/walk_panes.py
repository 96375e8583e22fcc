"""The walk's right side: one detail pane per step, built on first view, or the verdict.

:class:`WalkPanes` is the walk screen's part that owns the content switcher's panes
(issue 9 split it out of walk.py). A step's pane is built the first time it is shown,
so opening a walk of twenty steps stays cheap, and from then on it is updated in place
as results come; the verdict pane exists from the start.
"""

from __future__ import annotations

from textual.widgets import ContentSwitcher

from ..widgets.flowchart import PENDING, RUNNING, VERDICT
from ..widgets.ids import css_id
from ..widgets.step_detail import StepDetail
from ..widgets.verdict import VerdictView
from .walk_part import WalkPart

VERDICT_PANE = "pane-verdict"


def pane_id(step_id: str) -> str:
    return css_id(step_id, "pane")


class WalkPanes(WalkPart):
    """The walk screen's detail panes: a step's, made when first needed, or the verdict's."""

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
