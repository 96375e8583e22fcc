"""A named cause as the operator reads it: what is wrong, the proof, and the fixes.

A fix is shown as the exact command to paste, with its undo and its risk,
because operators often fix things by hand and need to know how to go back.
The fixes are an OptionList so the operator can pick one with the arrows and
copy (``c``) or, with ``--allow-changes``, apply (``f``) exactly that one. A fix
whose values are not all known is guidance: it says what it needs instead of a
command, and the walk refuses to copy or apply it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from vnetdoctor.knowledge.catalog import guidance_text
from vnetdoctor.knowledge.model import MACHINE_WIDE
from vnetdoctor.knowledge.context import OPERATOR
from vnetdoctor.knowledge.model import FAIL, WARN, Finding, Fix
from vnetdoctor.knowledge.text import Translator, layer_name, risk_name

from ..emphasis import emphasis
from ..kb import Knowledge
from .flowchart import MARKS


def fix_prompt(fix: Fix, tr: Translator) -> Text:
    """Command on the first line (as pasted), then undo, risk and where it runs.

    Guidance has no command: its first line says what it needs, with no prompt mark.
    """
    text = Text()
    if fix.runnable:
        for i, line in enumerate(fix.command.splitlines()):  # a fix of several steps: one line each
            text.append(("\n" if i else "") + "$ ", style="dim")
            text.append(line, style="bold")
        text.append("\n  " + tr("fix.undo") + tr("sep.colon"), style="dim")
        text.append((fix.undo or tr("fix.no_undo")).replace("\n", "\n        "))
    else:
        text.append(guidance_text(fix, tr.lang), style="bold yellow")
    text.append("\n  " + tr("fix.risk") + tr("sep.colon"), style="dim")
    text.append(risk_name(fix.risk, tr.lang) or "—", style=_risk_style(fix.risk))
    if fix.where and fix.missing != (MACHINE_WIDE,):  # that guidance says where it must NOT run
        text.append(" · " + tr("fix.where") + tr("sep.colon"), style="dim")
        text.append(fix.where)
    if fix.note:
        text.append("\n  " + fix.note, style="italic")
    return text


def _risk_style(risk: str) -> str:
    return emphasis({"low": "green", "medium": "yellow", "high": "bold red"}.get(risk, "")) if risk else ""


class FixList(OptionList):
    """The fixes of one finding; the highlighted one is what ``c`` copies and ``f`` applies."""

    DEFAULT_CSS = """
    FixList { height: auto; max-height: 16; border: none; padding: 0; margin: 0 0 0 2; }
    FixList:focus { border: none; }
    """

    def __init__(self, fixes: tuple[Fix, ...], tr: Translator, **kwargs: Any) -> None:
        self.fixes = fixes
        self._tr = tr
        super().__init__(*self._options(fixes), **kwargs)

    def _options(self, fixes: tuple[Fix, ...]) -> list[Option]:
        return [Option(fix_prompt(f, self._tr), id=f"fix{i}") for i, f in enumerate(fixes)]

    def on_mount(self) -> None:
        self.display = bool(self.fixes)  # an empty list would still take focus
        if self.fixes:
            self.highlighted = 0

    def set_fixes(self, fixes: tuple[Fix, ...]) -> None:
        """Show ``fixes``, keeping the highlight when the list did not change."""
        if fixes == self.fixes:
            return
        keep = self.highlighted or 0
        self.fixes = fixes
        self.set_options(self._options(fixes))
        self.display = bool(fixes)
        if fixes:
            self.highlighted = min(keep, len(fixes) - 1)

    def selected_fix(self) -> Fix | None:
        if not self.fixes:
            return None
        index = self.highlighted if self.highlighted is not None else 0
        return self.fixes[min(index, len(self.fixes) - 1)]


def finding_text(finding: Finding, tr: Translator, kb: Knowledge, index: int | None = None) -> Text:
    """Headline (mark, cause id, layer), the cause's title, the summary and the evidence."""
    mark = MARKS.get(finding.severity, MARKS[WARN])
    text = Text()
    if index is not None:
        text.append(f"{index}. ", style="bold")
    text.append(f"{mark} ", style=emphasis("bold red" if finding.severity == FAIL else "bold yellow"))
    text.append(finding.cause, style="bold")
    if any(e.vantage == OPERATOR for e in finding.evidence):  # the operator's word, not a probe's
        text.append(f" ({tr('verdict.your_answer')})", style="italic")
    text.append(f"  [{layer_name(finding.layer, tr.lang)}]", style="dim")
    title = kb.cause_title(finding.cause, tr.lang)
    if title:
        text.append("\n" + title, style="bold")
    if finding.summary:
        text.append("\n" + finding.summary)
    if finding.evidence:
        text.append("\n" + tr.label("finding.evidence"), style="underline")
        for ev in finding.evidence:
            text.append("\n • " + ev.text)
            where = " @ ".join(p for p in (ev.probe, ev.vantage) if p)
            if where:
                text.append(f"  ({where})", style="dim")
    if finding.fixes:
        text.append("\n" + tr.label("finding.fixes"), style="underline")
    else:
        text.append("\n" + tr("finding.no_fix"), style="dim")
    return text


class FindingView(Vertical):
    """One finding; updated in place when a re-run reports the same cause again."""

    DEFAULT_CSS = """
    FindingView { height: auto; margin: 0 0 1 0; }
    FindingView > Static { height: auto; }
    """

    def __init__(
        self, finding: Finding, tr: Translator, kb: Knowledge, index: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.finding = finding
        self.index = index
        self._tr = tr
        self._kb = kb

    def compose(self) -> ComposeResult:
        yield Static(finding_text(self.finding, self._tr, self._kb, self.index), classes="finding-text")
        yield FixList(self.finding.fixes, self._tr)

    def update_finding(self, finding: Finding, index: int | None = None) -> None:
        if finding == self.finding and index == self.index:
            return
        self.finding = finding
        self.index = index
        self.query_one(".finding-text", Static).update(finding_text(finding, self._tr, self._kb, index))
        self.query_one(FixList).set_fixes(finding.fixes)
