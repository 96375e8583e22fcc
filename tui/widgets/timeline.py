"""The replay's timeline bar: where in the recorded session the walk is, and what happened there.

Two lines under the walk: a strip with one mark per recorded moment (steps,
re-runs, answers, fixes offered, applied and undone), the selected one in reverse
video, and a line that says what the selected moment was — "fix applied: nft …
(exit 0)", "re-run: Ping both ways ✓" — with the keys that steer it. The strip is
windowed around the selection so a long session fits 80 columns.

Rendering only: the screen steers the replay (see :mod:`..screens.replay_walk`)
and hands this widget the position; names of steps come from the plan the walk
already translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from vnetdoctor.knowledge.model import ASK, FAIL, PASS, WARN
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.session.timeline import ANSWER, FIX_APPLIED, FIX_OFFERED, FIX_UNDONE, RERUN, STEP, Moment

from ..emphasis import emphasis
from ..glyphs import ascii_glyphs, glyph

# One cell per moment; ASCII-safe letters for the kinds without a status mark.
_KIND_MARKS = {ANSWER: "?", FIX_OFFERED: "+", FIX_APPLIED: "!", FIX_UNDONE: "u"}
# One cell per step result: the walk's marks, and single letters where the walk's ASCII marks are wider.
_STATUS_CELLS = {PASS: ("✓", "o"), FAIL: ("✗", "X"), WARN: ("!", "!"), ASK: ("?", "?")}
_STATUS_STYLES = {PASS: "green", FAIL: "bold red", WARN: "yellow", ASK: "yellow"}


def moment_mark(moment: Moment) -> tuple[str, str]:
    """The strip's cell for one moment and its style."""
    if moment.result is not None:
        status = moment.result.status
        cell = _STATUS_CELLS.get(status, ("-", "-"))[1 if ascii_glyphs() else 0]
        return cell, _STATUS_STYLES.get(status, "dim")
    if moment.kind in (FIX_APPLIED, FIX_UNDONE):
        return _KIND_MARKS[moment.kind], "bold green" if moment.ok else "bold red"
    return _KIND_MARKS.get(moment.kind, "·"), "cyan" if moment.kind == FIX_OFFERED else "dim"


def describe(moment: Moment | None, tr: Translator, title_of: Callable[[str], str]) -> Text:
    """What the selected moment was, in the operator's language (values stay as recorded)."""
    if moment is None:
        return Text(tr("replay.at_start"), style="dim")
    step = title_of(moment.step) if moment.step else ""
    detail: Mapping[str, Any] = moment.detail
    if moment.result is not None:
        style = _STATUS_STYLES.get(moment.result.status, "dim")
        mark = glyph({PASS: "pass", FAIL: "fail", WARN: "warn", ASK: "ask"}.get(moment.result.status, "skip"))
        key = "replay.moment.rerun" if moment.kind == RERUN else "replay.moment.step"
        text = Text(tr(key, step=step, run=moment.run) + " ")
        text.append(mark + " " + tr(f"status.{moment.result.status}"), style=emphasis(style))
        causes = ", ".join(dict.fromkeys(f.cause for f in moment.result.findings))
        if causes:
            text.append(" · " + causes)
        return text
    # An undo names the fix it took back ("undoes"); anything else the command that ran.
    command = str(detail.get("undoes") or detail.get("command") or detail.get("guidance") or "")
    if moment.kind == ANSWER:
        return Text(tr("replay.moment.answer", step=step, answer=str(detail.get("answer", ""))))
    if moment.kind == FIX_OFFERED:
        return Text(tr("replay.moment.offered", cause=str(detail.get("cause", "")), command=command))
    if moment.kind in (FIX_APPLIED, FIX_UNDONE):
        key = "replay.moment.applied" if moment.kind == FIX_APPLIED else "replay.moment.undone"
        code = detail.get("returncode")
        outcome = tr("replay.exit", code=code) if code is not None else tr("replay.no_exit")
        text = Text(tr(key, command=command, outcome=outcome), style=emphasis("green" if moment.ok else "red"))
        output = str(detail.get("output") or "").strip().splitlines()
        if output:
            text.append(" · " + output[-1], style="dim")
        return text
    return Text(tr("replay.moment.other", event=moment.event or moment.kind))


class TimelineBar(Static):
    """The strip of recorded moments with the selected one marked, and what it was."""

    DEFAULT_CSS = """
    TimelineBar { height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(self, moments: Sequence[Moment], tr: Translator, title_of: Callable[[str], str],
                 **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.moments = tuple(moments)
        self._tr = tr
        self._title_of = title_of
        self.position = len(self.moments)
        self.playing = False

    def on_mount(self) -> None:
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def show(self, position: int, *, playing: bool | None = None) -> None:
        self.position = max(0, min(position, len(self.moments)))
        if playing is not None:
            self.playing = playing
        self._paint()

    def strip_text(self, width: int) -> Text:
        """``paused 12/23 |✓✓✗+!✓`` windowed around the selection to fit ``width`` cells."""
        tr = self._tr
        head = Text()  # spans, not a base style: the base would carry over to every cell and line
        head.append(tr("replay.playing" if self.playing else "replay.paused") + " ", style="bold reverse")
        head.append(" " + tr("replay.position", at=self.position, total=len(self.moments)) + " ", style="bold")
        room = max(8, width - head.cell_len - 2)
        # Cell 0 is "before anything"; cell i is moment i - 1.
        cells = [("|", "dim")] + [moment_mark(m) for m in self.moments]
        start = max(0, min(self.position - room // 2, len(cells) - room))
        text = head
        if start > 0:
            text.append("<", style="dim")
        for i, (mark, style) in enumerate(cells[start:start + room], start=start):
            text.append(mark, style=emphasis(style) + (" reverse" if i == self.position else ""))
        if start + room < len(cells):
            text.append(">", style="dim")
        hint = tr("replay.jump_hint")  # the jump keys, where the footer has no room for them
        gap = width - text.cell_len - cell_len(hint)
        if gap >= 2:
            text.append(" " * gap + hint, style="dim")
        return text

    def _paint(self) -> None:
        width = (self.size.width or 80) - 2
        selected = self.moments[self.position - 1] if self.position > 0 else None
        line = describe(selected, self._tr, self._title_of)
        line.truncate(width, overflow="ellipsis")
        text = self.strip_text(width)
        text.append("\n")
        text.append_text(line)
        self.update(text)


__all__ = ["TimelineBar", "describe", "moment_mark"]
