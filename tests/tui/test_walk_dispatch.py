"""Each message reaches the walk's handler once, in a replay too.

Textual calls the ``on_*`` handler of every class in a screen's MRO, base classes
included. The replay's walk (a WalkScreen subclass) used to also call ``super()`` in
its handlers, so WalkScreen handled every engine event and its own unmount twice.
These tests count the calls through the App as ``vnetdoctor replay`` builds it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from tests.tui.support.replay import record_fixed_session, replay_app
from tests.tui.support.waiting import settle, wait_until
from vnetdoctor.tui.screens.replay_walk import ReplayWalkScreen
from vnetdoctor.tui.screens.walk import WalkScreen


async def test_a_replay_hands_each_engine_event_and_its_unmount_to_the_walk_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []  # the messages themselves: an id is reused once one is freed
    unmounts: list[object] = []
    handle, unmount = WalkScreen.on_engine_event_posted, WalkScreen.on_unmount

    def counted_event(self, message):  # type: ignore[no-untyped-def]
        seen.append(message)
        return handle(self, message)

    def counted_unmount(self):  # type: ignore[no-untyped-def]
        unmounts.append(self)
        return unmount(self)

    monkeypatch.setattr(WalkScreen, "on_engine_event_posted", counted_event)
    monkeypatch.setattr(WalkScreen, "on_unmount", counted_unmount)
    store, sid = record_fixed_session(tmp_path / "sessions.db")
    try:
        app = replay_app(store, sid)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ReplayWalkScreen), what="the replay")
            walk = app.screen
            await settle(pilot)
            await pilot.press("left", "left", "right")
            await settle(pilot)
            twice = [key for key, n in Counter(map(id, seen)).items() if n > 1]
            assert seen and not twice, f"{len(twice)} of {len(set(map(id, seen)))} events handled twice"
            await pilot.press("q")
            await pilot.pause()
        assert unmounts == [walk]
        assert walk.session.closed
    finally:
        store.close()
