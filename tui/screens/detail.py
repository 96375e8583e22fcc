"""The whole of one row: what a list cuts to fit its columns, shown in full.

Every list of the TUI cuts cells with "…" at 80 columns (a firewall rule with its
counters, a packet's summary, a step's note). Enter on a row opens this dialog
with every field of the row, untruncated and wrapped, scrollable with the list
keys; ``q`` or Esc closes it. Values are shown as plain text, never as markup: a
rule like ``ip saddr { 1.2.3.4 }`` or a name with ``[`` reads as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vnetdoctor.knowledge.model import Evidence, StepResult
from vnetdoctor.knowledge.text import Translator, duration
from vnetdoctor.probes.rows import PacketRow

from ..i18n import translate_bindings
from ..kb import choice_label
from ..table_cells import format_value


class DetailDialog(ModalScreen[None]):
    """``title`` and the ``fields`` (name, value) of one row, in full."""

    DEFAULT_CSS = """
    DetailDialog {
        align: center middle;
    }
    DetailDialog > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    DetailDialog #detail-body {
        height: auto;
        max-height: 100%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "dialog.close", id="detail.close"),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("g,home", "scroll('home')", show=False),
        Binding("G,end", "scroll('end')", show=False),
    ]

    def __init__(self, title: str, fields: Sequence[tuple[str, str]], lang: str) -> None:
        super().__init__()
        self.title_text = title
        self.fields = [(str(k), str(v)) for k, v in fields]
        self.tr = Translator(lang)
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for name, value in self.fields:
            table.add_row(Text(name), Text(value))
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(table, id="detail-fields")
            yield Static(Text(self.tr("dialog.detail_hint"), style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "home": body.scroll_home, "end": body.scroll_end}[where]()

    def shown_text(self) -> str:
        """The fields as plain lines (tests and the pilot read them)."""
        return "\n".join(f"{k}  {v}" for k, v in self.fields)


def step_detail(result: StepResult, tr: Translator) -> DetailDialog:
    """A step in full: its status, the whole note, the operator's answer, findings, probes."""
    fields = [(tr("detail.status"), tr(f"status.{result.status}")), (tr("detail.note"), result.note)]
    if result.answer:
        fields.append((tr("detail.answer"), choice_label(result.step, result.answer, tr.lang)))
    # The same words as the step's header ("11 ms"), not a rounding of it ("0.0 s").
    fields.append((tr("detail.took"), duration(result.duration_ms, tr.lang)))
    for finding in result.findings:
        fields.append((tr("detail.cause"), f"{finding.cause}: {finding.summary}"))
        fields += [(f"  {tr('detail.evidence')}", e.text + _source(e)) for e in finding.evidence]
    for obs in result.observations:
        what = f"{obs.probe} @ {obs.vantage}: {obs.status}" + (f" ({obs.reason})" if obs.reason else "")
        fields.append((tr("detail.probe"), what))
    return DetailDialog(result.title, fields, tr.lang)


def _source(evidence: Evidence) -> str:
    """`` (probe @ vantage)``: which probe saw this line, and where (an answer: the operator)."""
    where = " @ ".join(p for p in (evidence.probe, evidence.vantage) if p)
    return f"  ({where})" if where else ""


def packet_detail(row: PacketRow, number: int, t0: float, side: str, tr: Translator) -> DetailDialog:
    """A captured packet in full: when, where, and the whole summary the list cuts."""
    fields = [
        (tr("packets.col.time"), f"{row.time - t0:.6f} s"),
        (tr("detail.captured_at"), f"{row.time:.6f}"),
        (tr("packets.col.iface"), row.iface),
        (tr("packets.col.vantage"), f"{row.vantage} ({side})" if side else row.vantage),
        (tr("packets.col.dir"), str(row.direction) or "?"),
        (tr("packets.col.len"), str(row.length)),
        (tr("detail.summary"), row.summary.strip()),
    ]
    if row.tag:
        fields.append((tr("detail.tag"), row.tag))
    return DetailDialog(f"#{number} {row.iface} {row.vantage}", fields, tr.lang)


def row_detail(title: str, values: Mapping[str, Any], labels: Mapping[str, str], lang: str) -> DetailDialog:
    """A table row in full: every field the probe returned, shown or not, untruncated."""
    fields = [(labels.get(k, k), format_value(v)) for k, v in values.items()]
    return DetailDialog(title, fields, lang)
