"""The Sessions screen's export dialog and diff view.

Export asks for the three things that differ between a ticket attachment and a
Wireshark file — format, redaction, file name — in one small dialog; the
extension follows the format until the operator edits the name. The diff view
shows what ``vnetdoctor diff`` prints (the same renderer), read in a worker and
scrollable, because two sessions of the same path are compared to see what a
change changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Checkbox, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from vnetdoctor.exports import FORMATS, SUFFIX
from vnetdoctor.knowledge.text import Translator, error_text

from ..i18n import translate_bindings
from ..widgets.title_bar import TitleBar


@dataclass(frozen=True)
class ExportRequest:
    """What the export dialog settled on."""

    session_id: str
    fmt: str
    redact: bool
    path: str


class MarkedCheckbox(Checkbox):
    """``[x]`` / ``[ ]``: Textual's checkbox draws the same X either way and lets colour tell."""

    @property
    def _button(self) -> Content:
        return Content("[x] " if self.value else "[ ] ")


class ExportDialog(ModalScreen[ExportRequest | None]):
    """Format (a list), redaction (a checkbox), file name; Enter in the name exports, esc cancels."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical {
        width: 72; max-width: 100%; height: auto; border: round $accent; padding: 0 1; background: $surface;
    }
    ExportDialog OptionList { height: auto; max-height: 8; }
    ExportDialog Input { width: 100%; }
    ExportDialog Label { width: 100%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # q as in every other dialog; in the file name it is a letter (the Input takes it first).
        Binding("escape,q", "cancel", "dialog.cancel", id="sessions.export_cancel"),
    ]

    def __init__(self, session_id: str, lang: str, directory: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.tr = Translator(lang)
        self.directory = directory
        self.fmt = "md"
        translate_bindings(self, lang)

    def default_path(self) -> str:
        return os.path.join(self.directory, f"vnetdoctor-{self.session_id}{SUFFIX[self.fmt]}")

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical():
            yield Label(Text(tr("sessions.export_title", id=self.session_id), style="bold"))
            yield OptionList(*(Option(tr(f"sessions.format.{f}"), id=f) for f in FORMATS), id="export-format")
            yield MarkedCheckbox(tr("sessions.redact"), id="export-redact", compact=True)
            yield Label(tr("sessions.export_path"))
            yield Input(self.default_path(), id="export-path", compact=True)
            yield Label(Text(tr("sessions.export_hint"), style="dim"))

    def on_mount(self) -> None:
        self.query_one("#export-format", OptionList).highlighted = 0
        self.query_one("#export-format", OptionList).focus()

    @on(OptionList.OptionHighlighted, "#export-format")
    def _format(self, event: OptionList.OptionHighlighted) -> None:
        """The name follows the format while it is the default one; a name typed by hand stays."""
        box = self.query_one("#export-path", Input)
        untouched = box.value == self.default_path()
        self.fmt = str(event.option.id)
        if untouched:
            box.value = self.default_path()

    @on(OptionList.OptionSelected, "#export-format")
    def _format_chosen(self, _event: OptionList.OptionSelected) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        path = os.path.abspath(os.path.expanduser(event.value.strip())) if event.value.strip() else ""
        if not path:
            return
        redact = self.query_one("#export-redact", Checkbox).value
        self.dismiss(ExportRequest(self.session_id, self.fmt, redact, path))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DiffScreen(Screen[None]):
    """What changed between two sessions, as ``vnetdoctor diff`` says it; q/esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "sessions.back", id="sessions.diff_back"),
    ]

    def __init__(self, db: Path, older: str, newer: str, lang: str) -> None:
        super().__init__()
        self.db, self.older, self.newer, self.lang = db, older, newer, lang
        self.tr = Translator(lang)
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        yield TitleBar(Text("vnetdoctor", style="bold"),
                       Text(self.tr("sessions.diff_title", a=self.older, b=self.newer), style="italic"))
        with VerticalScroll(id="diff-scroll"):
            yield Static(Text(self.tr("sessions.diff_loading"), style="dim italic"), id="diff-text")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#diff-scroll").focus()
        self._compare()

    @work(thread=True, exit_on_error=False)
    def _compare(self) -> None:
        from vnetdoctor.probes.errors import UsageError
        from vnetdoctor.relang import in_language
        from vnetdoctor.sessiondiff import diff_sessions
        from vnetdoctor.sessiondiff_text import render_diff
        from vnetdoctor.store import SessionStore

        try:
            with SessionStore(self.db, readonly=True) as store:
                a, b = (in_language(store.load(s), self.lang).session for s in (self.older, self.newer))
            text = render_diff(diff_sessions(a, b), a, b, lang=self.lang, max_rows=None)  # it scrolls
        except (UsageError, OSError) as exc:
            text = error_text(exc, self.lang)
        self.app.call_from_thread(self.query_one("#diff-text", Static).update, Text(text))

    def action_back(self) -> None:
        self.app.pop_screen()
