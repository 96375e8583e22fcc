"""The path view: the grid of which interfaces along the path saw each probe packet.

The operator reads it like one ``tcpdump`` per interface side by side: one row per
probe packet and direction, one column per capture point in path order (host side
first), ``✓`` seen, ``·`` not seen, ``?`` not listened on (the point could not be
opened), and one verdict line per probe flow above the grid ("the echo request
reached vnet0 but never the guest's eth0").

The grouping and the verdicts are plain data work in :mod:`..path_trace` (headless,
tested without Textual); this widget only fits the grid to its pane and draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from vnetdoctor.probes.vantage import VantageError, parse_vantage

from ..glyphs import glyph
from ..path_trace import PathTrace, Point, Verdict, verdicts
from .kernel_loader import KernelMarksLoaded, load_marks
from .kernel_marks import KernelMarks

TextFn = Callable[..., str]  # text(key, **values) in the operator's language


def fit_widths(space: int, label: int, kind: int, points: Sequence[int], kernel: int) -> tuple[int, int]:
    """The widths the probe label and the kernel cell may take so the grid fits ``space`` cells.

    The "req →"/"rep ←" column and the marks are what a row says, so they keep their
    width; the kernel's word shrinks first (to 8), then the probe label (to 6), each
    with an ellipsis. Columns are 2 cells apart. Wider than ``space`` only when even
    that does not fit (the pane then scrolls sideways).
    """
    widths = [kind, *points, *([kernel] if kernel else [])]
    fixed = sum(widths) - kernel + 2 * len(widths)  # every column after the label, with its gap
    over = label + fixed + kernel - space
    if over <= 0 or space <= 0:
        return label, kernel
    kernel_fit = max(min(kernel, 8), kernel - over) if kernel else 0
    over -= kernel - kernel_fit
    return (max(min(label, 6), label - over) if over > 0 else label), kernel_fit


def short_vantage(vantage: str) -> str:
    """``netns:vnd-host`` → ``vnd-host``; ``local`` stays; for tight columns.

    Read by the vantage's own parser (a libvirt guest's ``@URI`` is not its name);
    text that is no vantage is shown as it is.
    """
    try:
        parsed = parse_vantage(vantage)
    except VantageError:
        return vantage
    return parsed.name or str(parsed)


class PathView(VerticalScroll):
    """Draws a :class:`PathTrace`: the seen/not-seen grid and one verdict line per flow."""

    DEFAULT_CSS = """
    PathView {
        height: 1fr;
    }
    PathView > Static {
        width: auto;
    }
    """

    def __init__(self, text: TextFn, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text
        self._static = Static(self._text("pathview.none"), markup=False)
        self.side_of: Mapping[str, str] = {}  # vantage text -> "host" / "guest"
        self.max_groups = 40
        self.last_verdicts: list[Verdict] = []
        self.kernel = KernelMarks()  # the kernel's word per ping flow (the walk's kernel.drops)
        self._last: PathTrace | None = None

    def on_mount(self) -> None:
        load_marks(self)

    def on_kernel_marks_loaded(self, message: KernelMarksLoaded) -> None:
        self.kernel = message.marks
        if self._last is not None:
            self.show(self._last)

    def compose(self):  # type: ignore[override]
        yield self._static

    def on_resize(self) -> None:
        if self._last is not None:  # the grid fits the pane's width (fit_widths)
            self.show(self._last)

    def point_label(self, point: Point) -> str:
        vantage, iface = point
        return f"{iface}\n{self.side_of.get(vantage) or short_vantage(vantage)}"

    def verdict_line(self, v: Verdict) -> str:
        def name(p: Point | None) -> str:
            if p is None:
                return ""
            side = self.side_of.get(p[0]) or short_vantage(p[0])
            return self._text("pathview.point", iface=p[1], side=side)

        return self._text(
            f"pathview.verdict.{v.kind}",
            label=v.label,
            seen=name(v.seen_at),
            missing=name(v.missing_at),
            sent=v.sent,
            answered=v.answered,
        )

    def show(self, trace: PathTrace) -> None:
        """Redraw from a trace (cheap: a few dozen rows of text)."""
        self._last = trace
        groups = trace.groups[-self.max_groups :]
        if not groups:
            self.last_verdicts = []
            self._static.update(Text(self._text("pathview.none")))
            return
        table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False, header_style="bold")
        kinds = [f"{self._text('pathview.' + k)} {glyph(a)}" for k in ("req", "rep") for a in ("right", "left")]
        kernel_cells = [c for g in groups for k in ("req", "rep") for c in self.kernel.cells(g.flow, k)]
        label_w, kernel_w = fit_widths(
            self.size.width - self.styles.scrollbar_size_vertical,  # room for the scroll bar, shown or not
            max(cell_len(t) for t in [self._text("pathview.probe"), *(g.label for g in groups)]),
            max(cell_len(k) for k in kinds),
            [max(1, *(cell_len(part) for part in self.point_label(p).split("\n"))) for p in trace.points],
            max((cell_len(c) for c in [self._text("pathview.kernel"), *kernel_cells]), default=0) if self.kernel else 0,
        )
        table.add_column(self._text("pathview.probe"), no_wrap=True, overflow="ellipsis", max_width=label_w)
        # A label is cut at its start: the end (":3", the address) tells one probe from the next.
        def tail(label: str) -> str:
            return label if cell_len(label) <= label_w else glyph("more")[-1] + label[-(label_w - 1):]

        table.add_column("", no_wrap=True)
        for p in trace.points:
            table.add_column(self.point_label(p), justify="center", no_wrap=True, overflow="ellipsis")
        if self.kernel:  # after the last hop: where the kernel ended the packet, and why
            table.add_column(self._text("pathview.kernel"), no_wrap=True, overflow="ellipsis", max_width=kernel_w)
        for g in groups:
            direction = trace.directions.get(g.flow, 1)
            arrow_req, arrow_rep = (glyph("right"), glyph("left")) if direction > 0 else (glyph("left"), glyph("right"))
            for kind, seen, arrow in (("req", g.request, arrow_req), ("rep", g.reply, arrow_rep)):
                marks = [
                    glyph("not_listening" if p in trace.unavailable else ("seen" if p in seen else "not_seen"))
                    for p in trace.points
                ]
                label = tail(g.label) if kind == "req" else ""
                table.add_row(label, f"{self._text('pathview.' + kind)} {arrow}", *marks,
                              *self.kernel.cells(g.flow, kind))
        self.last_verdicts = verdicts(trace)
        body = Text()
        for i, v in enumerate(self.last_verdicts):
            if i:
                body.append("\n")
            body.append(self.verdict_line(v), style="bold" if v.kind != "ok" else "")
        for line in self.kernel.lines(dict.fromkeys(v.flow for v in self.last_verdicts), self._text):
            body.append("\n" + line, style="bold")
        from rich.console import Group

        self._static.update(Group(body, table))
