"""The walk screen's parts hold only what Textual finds in a plain class.

Issue 9 split the walk screen into parts (tui/screens/walk_*.py, changes.py) that
the screen inherits. Textual reads two things only from its own node classes:
``BINDINGS`` and handlers decorated with ``@on``; in a plain part they would be
ignored without a word, so a key or a click would silently do nothing. And it calls
the ``on_*`` handler of *every* class in the screen's MRO, so two parts handling the
same message would both run. These tests fail on either mistake.
"""

from __future__ import annotations

from textual.dom import DOMNode

from vnetdoctor.tui.screens.replay_walk import ReplayWalkScreen
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.tui.screens.walk_part import WalkPart


def _parts() -> list[type]:
    return [c for c in WalkScreen.__mro__ if issubclass(c, WalkPart) and not issubclass(c, DOMNode)]


def test_the_walk_is_made_of_its_parts() -> None:
    names = {c.__name__ for c in _parts()}
    assert {"WalkRunning", "WalkHeader", "WalkPanes", "WalkQuestions", "WalkFixes", "WalkChanges"} <= names
    assert issubclass(ReplayWalkScreen, WalkScreen)


def test_no_part_holds_bindings_or_on_handlers() -> None:
    for part in _parts():
        assert "BINDINGS" not in vars(part), f"{part.__name__}: BINDINGS belong on WalkScreen"
        decorated = [n for n, v in vars(part).items() if getattr(v, "_textual_on", None)]
        assert not decorated, f"{part.__name__}: @on handlers {decorated} belong on WalkScreen"


def test_each_message_is_handled_in_one_place() -> None:
    seen: dict[str, str] = {}
    for cls in [WalkScreen, *_parts()]:
        for name in vars(cls):
            if name.startswith("on_"):
                assert name not in seen, f"{name} is in both {seen[name]} and {cls.__name__}: both would run"
                seen[name] = cls.__name__
    assert {"on_worker_state_changed", "on_question_asked", "on_fix_applied", "on_engine_event_posted"} <= set(seen)


def test_every_key_of_the_walk_has_its_action() -> None:
    for binding in WalkScreen.BINDINGS:
        action = binding.action.split("(")[0]  # type: ignore[union-attr]
        assert callable(getattr(WalkScreen, f"action_{action}", None)), binding
