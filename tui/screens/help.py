"""``?``: every key of the screen it was opened from, what it does, and what the marks mean.

Built from the calling screen's live bindings (after the keymap and the
enabled/disabled checks), so it never lists a key that does nothing here and
always shows a remapped key as the operator configured it.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from ..i18n import Translator, translate_bindings
from ..widgets.flowchart import MARKS

MARK_KEYS = ("pass", "fail", "warn", "ask", "skip", "running", "pending")


def collect_keys(screen: Screen) -> list[tuple[str, str]]:
    """(key as displayed, description) for the screen's and the App's enabled bindings."""
    app = screen.app
    by_action: dict[tuple[int, str], tuple[list[str], str]] = {}
    for _key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node is not screen and active.node is not app:
            continue
        if not binding.description or not active.enabled:
            continue
        slot = (id(active.node), binding.action)
        keys, _ = by_action.setdefault(slot, ([], binding.description))
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(" ".join(keys), desc) for keys, desc in by_action.values()]


class HelpScreen(ModalScreen[None]):
    """A modal over the screen it explains; Esc or ? closes it."""

    BINDINGS = [
        Binding("escape,question_mark", "close", "help.close", id="help.close"),
    ]

    def __init__(self, for_screen: Screen, lang: str, title: str) -> None:
        super().__init__()
        self.tr = Translator(lang)
        self.keys = collect_keys(for_screen)
        self.screen_title = title
        self.intro = getattr(for_screen, "help_intro", lambda: "")()
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(id="help", classes="dialog"):
            yield Static(Text(tr("help.title", screen=self.screen_title), style="bold"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                if self.intro:
                    yield Static(self.intro, classes="help-intro")
                yield Static(self._keys_table())
                yield Static(self._marks_table())
                yield Static(Text(tr("help.palette"), style="dim"))
        yield Footer(compact=True, show_command_palette=False)

    def _keys_table(self) -> Table:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        table.add_column(self.tr("help.key"), style="bold", no_wrap=True)
        table.add_column(self.tr("help.action"))
        for keys, desc in self.keys:
            table.add_row(keys, desc)
        return table

    def _marks_table(self) -> Table:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        table.add_column(self.tr("help.mark"), no_wrap=True)
        table.add_column(self.tr("help.meaning"))
        for key in MARK_KEYS:
            table.add_row(MARKS[key], self.tr(f"status.{key}"))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
