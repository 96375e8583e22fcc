"""Modal dialogs: a question no probe can answer, and the confirmation before a fix runs.

Both are deliberately hard to get wrong with one key press: the fix dialog
opens with *Cancel* focused, so Enter, Esc or q on it changes nothing, and applying
needs the operator to move to *Apply* first. A question dismissed with Esc or q
counts as "don't know", which the engine treats as no information.

The question's answers are a vertical list, not a row of buttons: the human labels
of a question node ("attached to the wrong network / switch") are long, and a row of
them was cut off at 80 columns after the third.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option
from vnetdoctor.knowledge.model import Fix, Question
from vnetdoctor.knowledge.text import Translator, risk_name

from ..i18n import translate_bindings
from ..kb import choice_label
from ..widgets.list_keys import ChoiceList


class QuestionDialog(ModalScreen[str | None]):
    """Ask the operator; dismisses with the chosen answer, or None (Esc or q: don't know)."""

    AUTO_FOCUS = "#choices"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_none", "dialog.dont_know", id="dialog.cancel"),
    ]

    def __init__(self, question: Question, lang: str, step_title: str = "") -> None:
        super().__init__()
        self.question = question
        self.tr = Translator(lang)
        self.step_title = step_title
        translate_bindings(self, lang)

    def labels(self) -> list[str]:
        """The choices as the list shows them: number, then the human label."""
        lang = self.tr.lang
        return [
            f"{i} {choice_label(self.question.step, choice, lang)}"
            for i, choice in enumerate(self.question.choices, 1)
        ]

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(id="dialog", classes="dialog"):
            yield Static(Text(tr("dialog.question_title"), style="bold"), classes="dialog-title")
            if self.step_title:
                yield Static(Text(self.step_title, style="dim"))
            yield Static(Text(self.question.text.strip()), id="question-text")
            yield Static(Text(tr("dialog.question_hint", n=len(self.question.choices)), style="dim"))
            yield ChoiceList(
                *(Option(Text(label), id=f"choice-{i}") for i, label in enumerate(self.labels(), 1)),
                id="choices",
                compact=True,
            )

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # Digits pick a choice directly: 1 = first, as the list is numbered.
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.question.choices):
                event.stop()
                self.dismiss(self.question.choices[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.question.choices):
            self.dismiss(self.question.choices[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class FixConfirmDialog(ModalScreen[bool]):
    """Show exactly what will run, how to undo it and the risk; Cancel is the default."""

    AUTO_FOCUS = "#cancel"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "dialog.cancel", id="dialog.cancel"),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, fix: Fix, lang: str, *, undo: bool = False) -> None:
        if not fix.runnable:
            raise ValueError("guidance is never applied")  # the walk refuses it first
        super().__init__()
        self.fix = fix
        self.undo = undo  # the fix is an applied fix's undo (changes panel): same dialog, its own title
        self.tr = Translator(lang)
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        tr, fix = self.tr, self.fix
        with Vertical(id="dialog", classes="dialog dialog-danger"):
            title = tr("changes.confirm_title") if self.undo else tr("fix.confirm_title")
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield Static(Text(tr("changes.confirm_warning" if self.undo else "fix.confirm_warning"), style="italic"))
            yield Static(self._field(tr("fix.command"), fix.command, "bold"))
            # An undo has none: to make the change again, the step's fix is applied anew.
            yield Static(self._field(tr("fix.undo"), fix.undo or tr("changes.redo" if self.undo else "fix.no_undo"), ""))
            yield Static(self._field(tr("fix.risk"), risk_name(fix.risk, tr.lang) or "—", "bold"))
            yield Static(self._field(tr("fix.where"), fix.where or "local", ""))
            yield Static(Text(tr("dialog.fix_hint"), style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button(tr("dialog.cancel"), id="cancel", variant="primary", compact=True)
                label = tr("changes.undo_apply") if self.undo else tr("fix.apply")
                yield Button(label, id="apply", variant="error", compact=True)

    def _field(self, label: str, value: str, style: str) -> Text:
        text = Text(label + self.tr("sep.colon"), style="dim")
        text.append(value, style=style)
        return text

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "apply")

    def action_cancel(self) -> None:
        self.dismiss(False)
