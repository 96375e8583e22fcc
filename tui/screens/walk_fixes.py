"""The walk's fixes: ``c`` copies the highlighted fix, ``f`` applies it after a confirmation.

:class:`WalkFixes` is the walk screen's part that handles a fix (issue 9 split it out of
walk.py; undoing one is :class:`.changes.WalkChanges`). A fix is an argv and the
vantage it runs in: the session runs it without a shell in the engine worker, records
it, and refuses guidance (a fix with no runnable command), which is never copied or
applied here either. Applying needs ``--allow-changes`` and is refused in a replay.
"""

from __future__ import annotations

from textual import work
from textual.widgets import ContentSwitcher

from vnetdoctor.knowledge.catalog import guidance_text
from vnetdoctor.knowledge.model import Fix

from ..messages import FixApplied, RunDone
from ..widgets.findings import FixList
from .dialogs import FixConfirmDialog
from .walk_part import WalkPart

FIX_TIMEOUT_S = 30.0


class WalkFixes(WalkPart):
    """The walk screen's fixes: which one is picked, copying it, and applying it in the engine worker."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _apply_fix(self, fix: Fix, step_id: str | None) -> None:
        # The session runs the fix's argv without a shell (a namespace fix carries `ip netns
        # exec NAME`, a libvirt guest's runs inside the guest through its agent), records it,
        # and refuses guidance. The step is re-run after the outcome is on screen.
        outcome = self.session.apply_fix(fix, step_id, FIX_TIMEOUT_S, rerun=False)
        self.post_message(FixApplied(fix, step_id, outcome.returncode, outcome.output))
        if outcome.refused:
            return
        if step_id:
            self.session.run_step(step_id)
        diagnosis = self.session.diagnosis()
        self.post_message(RunDone(diagnosis, self.session.path_points(), whole_walk=False, step=step_id))

    def on_fix_applied(self, message: FixApplied) -> None:
        ok = message.returncode == 0
        last = message.output.splitlines()[-1] if message.output else ""
        if ok:
            self.notify(self.tr("changes.undone_toast" if message.undo else "fix.applied",
                                command=message.fix.command), timeout=6)
        else:
            self.notify(self.tr("fix.failed", code=message.returncode, output=last), severity="error", timeout=10)

    def _selected_fix(self) -> tuple[Fix | None, str | None]:
        """The highlighted fix in the visible pane (the focused list first) and its step."""
        focused = self.focused
        lists: list[FixList] = []
        if isinstance(focused, FixList):
            lists.append(focused)
        switcher = self.query_one("#detail", ContentSwitcher)
        visible = switcher.visible_content
        if visible is not None:
            lists.extend(fl for fl in visible.query(FixList) if fl.fixes)
        for fix_list in lists:
            fix = fix_list.selected_fix()
            if fix is not None:
                return fix, self._step_of(fix)
        return None, None

    def _step_of(self, fix: Fix) -> str | None:
        for step_id, result in self.results.items():
            for finding in result.findings:
                if fix in finding.fixes:
                    return step_id
        return None

    def _refuse_guidance(self, fix: Fix) -> bool:
        """Guidance is never copied or applied: it has no command. Say so."""
        if fix.runnable:
            return False
        self.notify(self.tr("walk.guidance_only", guidance=guidance_text(fix, self.state.lang)),
                    severity="warning", timeout=5)
        return True

    def action_copy_fix(self) -> None:
        fix, step = self._selected_fix()
        if fix is None:
            self.notify(self.tr("walk.no_fix"), severity="warning", timeout=3)
            return
        if self._refuse_guidance(fix):
            return
        self.app.copy_to_clipboard(fix.command)
        self.notify(self.tr("walk.copied", command=fix.command), timeout=4)
        self.session.note("fix_copied", {**fix.to_dict(), "step": step})

    action_copy_quiet = action_copy_fix

    def action_apply_fix(self) -> None:
        if not self.state.allow_changes or self.state.replay:
            self.notify(self.tr("walk.changes_off"), severity="warning", timeout=4)
            return
        fix, step = self._selected_fix()
        if fix is None:
            self.notify(self.tr("walk.no_fix"), severity="warning", timeout=3)
            return
        if self._refuse_guidance(fix) or self._refuse_busy():
            return
        if self.session.refusal(fix) is not None:
            self.notify(self.tr("walk.not_here", where=fix.where), severity="warning", timeout=5)
            return

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self.session.note("fix_cancelled", {**fix.to_dict(), "step": step})
                return
            if self._refuse_busy():
                return
            self.busy = "fix"
            self.refresh_bindings()
            self._worker = self._apply_fix(fix, step)

        self.app.push_screen(FixConfirmDialog(fix, self.state.lang), confirmed)

    def action_fix_hint(self) -> None:
        """Say why f does nothing here and what works instead (c copies the fix)."""
        self.notify(self.tr("walk.changes_hint"), severity="warning", timeout=5)

    def blocks_quit(self) -> str | None:
        """A reason not to quit now: a fix is being applied (its outcome must be recorded)."""
        return self.tr("walk.fix_running") if self.busy == "fix" else None
