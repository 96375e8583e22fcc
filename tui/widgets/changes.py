"""The changes panel's list: every fix this session applied, what it returned, and its undo.

An operator who applied a fix at 2 a.m. needs to know, before anything else, what was
changed and how to take it back. Each entry shows the command exactly as it ran
(shell-quoted argv) and where, its exit status with the first line of its output when
it failed, and the undo command with what happened when it was run. The highlighted
entry is the one ``u`` undoes (tui/screens/changes.py asks first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from vnetdoctor.knowledge.model import FAIL, PASS, WARN
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.session import Change, FixOutcome

from ..emphasis import emphasis
from .flowchart import MARKS
from .list_keys import LIST_KEYS, ListKeys


def outcome_text(outcome: FixOutcome, tr: Translator) -> str:
    """``exit 0``, or ``exit 1: <the output's first line>`` (the line a failure is about)."""
    if outcome.ok:
        return tr("changes.result_ok")
    first = next((line for line in outcome.output.splitlines() if line.strip()), "")
    return tr("changes.result_failed", code=outcome.returncode, line=first)


def change_text(change: Change, tr: Translator) -> Text:
    """One entry: mark, ``$ command`` per step, where it ran, its result, the undo and its result."""
    applied = change.applied
    fix = applied.fix
    text = Text()
    mark = MARKS[WARN if change.undone is not None and change.undone.ok else PASS if applied.ok else FAIL]
    text.append(mark + " ", style=emphasis("bold green" if applied.ok else "bold red"))
    for i, line in enumerate(fix.command.splitlines()):
        text.append(("\n  " if i else "") + "$ ", style="dim")
        text.append(line, style="bold")
    text.append("\n  " + tr("fix.where") + tr("sep.colon"), style="dim")
    text.append(fix.where or "local")
    text.append(" · ", style="dim")
    text.append(outcome_text(applied, tr), style="" if applied.ok else emphasis("bold red"))
    text.append("\n  " + tr("fix.undo") + tr("sep.colon"), style="dim")
    text.append((fix.undo or tr("fix.no_undo")).replace("\n", "\n        "))
    if change.undone is not None:
        key = "changes.undone" if change.undone.ok else "changes.undo_failed"
        text.append("\n  " + tr(key, result=outcome_text(change.undone, tr)),
                    style=emphasis("yellow" if change.undone.ok else "bold red"))
    return text


class ChangesList(ListKeys, OptionList):
    """The session's changes, oldest first; the highlighted one is what ``u`` undoes."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS
    DEFAULT_CSS = """
    ChangesList { height: auto; max-height: 100%; border: none; padding: 0; }
    ChangesList:focus { border: none; }
    """

    def __init__(self, changes: Sequence[Change], tr: Translator, **kwargs: Any) -> None:
        self.changes = list(changes)
        self._tr = tr
        super().__init__(*(Option(change_text(c, tr), id=f"change{i}") for i, c in enumerate(self.changes)),
                         **kwargs)

    def on_mount(self) -> None:
        if self.changes:
            self.highlighted = len(self.changes) - 1  # the latest change: the one most often undone

    def selected(self) -> Change | None:
        if not self.changes or self.highlighted is None:
            return None
        return self.changes[self.highlighted]
