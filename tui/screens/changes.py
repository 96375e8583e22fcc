"""The changes panel over the walk, and the walk's part in undoing a change.

``x`` on the walk opens it: every fix this session applied (tui/widgets/changes.py).
``u`` asks, in the same confirmation dialog as applying a fix (Cancel the default), to
run the picked change's undo; confirmed, the panel closes with the change and the walk
runs the undo in its engine worker through the session (``Session.undo_fix``: the undo
argv, no shell, recorded as ``fix_undone``), then re-runs the step, as after a fix.

:class:`WalkChanges` is the walk screen's side of it, kept here so the walk module stays
small: the key's action, the undo worker, and the header's "was: CAUSE → now: …".
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from vnetdoctor.knowledge.apply import FixRefused, undo_of
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.probes.vocabulary import Verdict
from vnetdoctor.session import Change

from ..i18n import translate_bindings
from ..messages import FixApplied, RunDone
from ..widgets.changes import ChangesList
from ..widgets.verdict import VerdictView
from .dialogs import FixConfirmDialog
from .walk_part import WalkPart

UNDO_TIMEOUT_S = 30.0


class ChangesScreen(ModalScreen[Change | None]):
    """The session's changes; dismissed with the change to undo (confirmed), or None."""

    DEFAULT_CSS = """
    ChangesScreen { align: center middle; }
    ChangesScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    ChangesScreen ChangesList { max-height: 16; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "changes.undo", id="changes.undo"),
        Binding("escape,q", "close", "changes.close", id="changes.close"),
    ]

    def __init__(self, changes: list[Change], lang: str) -> None:
        super().__init__()
        self.changes = changes
        self.tr = Translator(lang)
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.tr("changes.title"), style="bold"), classes="dialog-title")
            if self.changes:
                yield ChangesList(self.changes, self.tr, id="changes-list")
            else:
                yield Static(Text(self.tr("changes.none"), style="italic"), id="changes-none")
            yield Static(Text(self.tr("changes.hint"), style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_undo(self) -> None:
        lists = self.query(ChangesList)
        change = lists.first().selected() if lists else None
        if change is None:
            return
        if change.undone is not None:
            self.notify(self.tr("changes.already_undone"), severity="warning", timeout=4)
            return
        try:
            undo = undo_of(change.applied.fix)
        except FixRefused:
            self.notify(self.tr("changes.no_undo"), severity="warning", timeout=4)
            return
        self.app.push_screen(FixConfirmDialog(undo, self.tr.lang, undo=True),
                             lambda ok: self.dismiss(change) if ok else None)


class WalkChanges(WalkPart):
    """The walk screen's changes: ``x`` opens the panel, a confirmed undo runs in the engine worker."""

    def action_changes(self) -> None:
        def chosen(change: Change | None) -> None:
            if change is None:
                return
            if self._refuse_busy():
                return
            self.busy = "fix"  # an undo is a change too: quitting waits for its outcome
            self.refresh_bindings()
            self._worker = self._undo_fix(change)

        self.app.push_screen(ChangesScreen(self.session.changes, self.state.lang), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _undo_fix(self, change: Change) -> None:
        outcome = self.session.undo_fix(change, UNDO_TIMEOUT_S, rerun=False)
        self.post_message(FixApplied(outcome.fix, outcome.step, outcome.returncode, outcome.output, undo=True))
        if outcome.refused:
            return
        if outcome.step:
            self.session.run_step(outcome.step)
        self.post_message(RunDone(self.session.diagnosis(), self.session.path_points(), whole_walk=False,
                                  step=outcome.step))

    def with_before(self, now: Text) -> Text:
        """The header's verdict after a fix changed it: ``✓ healthy · was: CAUSE`` (now first: at
        80 columns the header's right half may be cut). The verdict pane says it in full."""
        before = self.session.before
        current = self.diagnosis  # what the walk shows now (the engine may be busy in a worker)
        view = self.query_one(VerdictView)
        if (before is None or before.verdict not in (Verdict.CAUSE, Verdict.WARNINGS) or not before.causes
                or current is None or [c.cause for c in current.causes] == [c.cause for c in before.causes]):
            view.set_change(None)  # nothing changed the verdict (or the change was undone)
            return now
        tr, was = Translator(self.state.lang), before.causes[0].cause
        line = Text(tr("changes.was_now", before=was, now=now.plain), style="bold")
        fixes = [c.applied.fix.command for c in self.session.changes if c.applied.ok and c.undone is None]
        if fixes:
            line.append("\n" + tr("changes.after_fix", command=fixes[-1].replace("\n", "; ")), style="dim")
        view.set_change(line)
        return now.copy().append(" · " + tr("changes.was", before=was), style="dim")
