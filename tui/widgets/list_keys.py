"""j/k/g/G in every list, as k9s, lazygit and less users expect.

The keys are declared on the list widgets themselves (not on the App or a screen):
a binding on the focused widget is asked first, so the key moves the list that has
the focus and nowhere else, and a filter Input still types the letters. Each key runs
the widget's own ↓/↑/first/last action, so both key sets always agree. Ids let a keymap file move them like any other
key; no description keeps them out of the footer.

A screen key wins over a list key: if the screen binds the same key (a keymap that
puts ``walk.next`` on j, say), the list steps aside and the screen's action runs. So
End on the packet list keeps the Packets screen's meaning: go to the last packet and
follow new ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingsMap, BindingType
from textual.widgets import DataTable, OptionList

LIST_KEYS: list[BindingType] = [
    Binding("j", "list_move('down')", id="list.down", show=False),
    Binding("k", "list_move('up')", id="list.up", show=False),
    Binding("g", "list_move('first')", id="list.first", show=False),
    Binding("G", "list_move('last')", id="list.last", show=False),
    # DataTable's own Home/End scroll sideways; in a list they mean the first / last row.
    Binding("home", "list_move('home')", id="list.home", show=False),
    Binding("end", "list_move('end')", id="list.end", show=False),
]

# The widgets' own actions for each move: OptionList says first/last, DataTable
# scroll_top/scroll_bottom (which move the row cursor too). Home and End have moves of
# their own name, not first/last, so that a screen claiming End (Packets) does not
# also take G: a screen key is matched per list action.
_OPTION_LIST_ACTIONS = {"down": "cursor_down", "up": "cursor_up", "first": "first", "last": "last",
                        "home": "first", "end": "last"}
_TABLE_ACTIONS = {"down": "cursor_down", "up": "cursor_up", "first": "scroll_top", "last": "scroll_bottom",
                  "home": "scroll_top", "end": "scroll_bottom"}


class ListKeys:
    """Mixin for an OptionList or DataTable subclass: the list_move action behind LIST_KEYS.

    Put it before the widget class (``class X(ListKeys, DataTable)``) and set
    ``BINDINGS = LIST_KEYS`` (plus the class's own) on the widget.
    """

    def action_list_move(self, where: str) -> None:
        actions = _OPTION_LIST_ACTIONS if isinstance(self, OptionList) else _TABLE_ACTIONS
        getattr(self, f"action_{actions[where]}")()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "list_move" and self._screen_has_key(f"list_move({parameters[0]!r})"):
            return False  # the screen's meaning of this key wins
        return super().check_action(action, parameters)  # type: ignore[misc]

    def _screen_has_key(self, list_action: str) -> bool:
        node: Any = self
        screen_keys = _mapped(node.screen).key_to_bindings
        return any(binding.action == list_action and key in screen_keys for key, binding in _mapped(node))


def _mapped(node: Any) -> BindingsMap:
    """The node's bindings as the keys reach them: Textual applies the keymap to copies only."""
    bindings: BindingsMap = node._bindings.copy()
    keymap = node.app._keymap  # private in Textual, as in help.collect_keys
    if keymap:
        bindings.apply_keymap(keymap)
    return bindings


class ListTable(ListKeys, DataTable[str]):
    """A plain row table with the list keys (the Start screen's targets)."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS


class ChoiceList(ListKeys, OptionList):
    """A plain option list with the list keys (the question dialog's answers)."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_KEYS
