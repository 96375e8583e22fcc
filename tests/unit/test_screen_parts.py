"""The Packets and Tables screens' parts hold only what Textual finds in a plain class.

Issue 9 split both screens into parts the screen inherits from, as it split the walk
(see test_walk_parts.py): the Packets screen into its detail panes
(packets_panes.py), saving a pcap (packets_save.py), the recorded view
(packets_recorded.py) and its status line and notes (packets_status.py); the Tables screen into loading (tables_loading.py). Textual
reads ``BINDINGS`` and ``@on`` handlers only from its own node classes, so in a plain
part they would be ignored without a word (a key or a message would silently do
nothing); and it calls the ``on_*`` handler of every class in the screen's MRO, so
two classes handling the same message would both run. These tests fail on either.
"""

from __future__ import annotations

import pytest
from textual.dom import DOMNode

from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.tables import TablesScreen

SCREENS = {
    PacketsScreen: {"PacketPanes", "PcapSaving", "RecordedPackets", "PacketsStatus"},
    TablesScreen: {"TablesLoading"},
}


def _ours(screen: type) -> list[type]:
    """The project's classes the screen is made of (the screen, its bases and its parts)."""
    return [c for c in screen.__mro__ if c.__module__.startswith("vnetdoctor.tui.")]


def _parts(screen: type) -> list[type]:
    return [c for c in _ours(screen) if not issubclass(c, DOMNode)]


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: s.__name__)
def test_the_screen_is_made_of_its_parts(screen: type) -> None:
    assert {c.__name__ for c in _parts(screen)} == SCREENS[screen]


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: s.__name__)
def test_no_part_holds_bindings_or_on_handlers(screen: type) -> None:
    for part in _parts(screen):
        assert "BINDINGS" not in vars(part), f"{part.__name__}: BINDINGS belong on {screen.__name__}"
        decorated = [n for n, v in vars(part).items() if getattr(v, "_textual_on", None)]
        assert not decorated, f"{part.__name__}: @on handlers {decorated} belong on {screen.__name__}"


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: s.__name__)
def test_each_message_is_handled_in_one_place(screen: type) -> None:
    seen: dict[str, str] = {}
    for cls in _ours(screen):
        for name in vars(cls):
            if name.startswith("on_"):
                assert name not in seen, f"{name} is in both {seen[name]} and {cls.__name__}: both would run"
                seen[name] = cls.__name__
    assert {"on_mount", "on_unmount"} <= set(seen)


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: s.__name__)
def test_every_key_of_the_screen_has_its_action(screen: type) -> None:
    for binding in screen.BINDINGS:
        action = binding.action.split("(")[0]  # type: ignore[union-attr]
        assert callable(getattr(screen, f"action_{action}", None)), binding
