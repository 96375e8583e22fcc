"""``?``: every key of the screen it was opened from, what it does, and what the marks mean.

Built from the calling screen's live bindings (after the keymap and the
enabled/disabled checks), so it never lists a key that does nothing here and
always shows a remapped key as the operator configured it.
"""

from __future__ import annotations

from typing import ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from vnetdoctor.knowledge.text import Translator
from ..i18n import translate_bindings
from ..widgets.flowchart import MARKS

MARK_KEYS = ("pass", "fail", "warn", "ask", "skip", "running", "pending")


def collect_keys(screen: Screen) -> list[tuple[str, str]]:
    """(keys as displayed, description) for the screen's and the App's own bindings.

    Read from the bindings themselves rather than ``active_bindings``: a focused
    widget may shadow a screen key (the sidebar's Enter selects, which runs the
    step), and the key still does what the screen says. The keymap is applied,
    and bindings the screen disables right now (``check_action`` False) are left out.
    """
    app = screen.app
    keymap = app._keymap  # Textual keeps the keymap private; it is what remaps by id
    by_action: dict[tuple[int, str], tuple[list[str], str]] = {}
    for node in (screen, app):
        bindings = node._bindings.copy()
        if keymap:
            bindings.apply_keymap(keymap)
        for _key, binding in bindings:
            if binding.id is None or not binding.description:
                continue  # Textual's own keys (tab, ctrl+c) have no id and English text: not listed
            action = binding.action.removeprefix("app.").removeprefix("screen.")
            if node.check_action(action, ()) is False:
                continue
            slot = (id(node), action)
            keys, _ = by_action.setdefault(slot, ([], binding.description))
            shown = app.get_key_display(binding)
            if shown not in keys:
                keys.append(shown)
    return [(" ".join(keys), desc) for keys, desc in by_action.values()]


class HelpScreen(ModalScreen[None]):
    """A modal over the screen it explains; Esc, q or ? closes it (q never quits from here)."""

    AUTO_FOCUS = "#help-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "help.close", id="help.close"),
    ]

    def __init__(self, for_screen: Screen, lang: str, title: str) -> None:
        super().__init__()
        self.tr = Translator(lang)
        self.keys = collect_keys(for_screen)
        self.screen_title = title
        self.intro = getattr(for_screen, "help_intro", lambda: "")()
        self.show_marks = bool(getattr(for_screen, "HELP_MARKS", False))
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(id="help", classes="dialog"):
            yield Static(Text(tr("help.title", screen=self.screen_title), style="bold"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(self._keys_table())
                if self.show_marks:
                    yield Static(self._marks_table())
                if self.intro:
                    yield Static(Text(self.intro), classes="help-intro")
                yield Static(Text(tr("help.palette"), style="dim"))
        yield Footer(compact=True, show_command_palette=False)

    def _keys_table(self) -> Table:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        table.add_column(self.tr("help.key"), style="bold", no_wrap=True)
        table.add_column(self.tr("help.action"))
        for keys, desc in self.keys:
            table.add_row(Text(keys), Text(desc))
        return table

    def _marks_table(self) -> Table:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        table.add_column(self.tr("help.mark"), no_wrap=True)
        table.add_column(self.tr("help.meaning"))
        for key in MARK_KEYS:
            table.add_row(Text(MARKS[key]), Text(self.tr(f"status.{key}")))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
