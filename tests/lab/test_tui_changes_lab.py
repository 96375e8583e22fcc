"""The changes panel on the real lab: apply the walk's fix, see "was → now", undo it (issue 13.3).

The guest's firewall drops ping. With --allow-changes the operator applies the fix
the verdict names (it runs in the lab's guest namespace), runs the walk again (healthy,
the header keeping the cause it had), opens the changes panel, and undoes the fix behind
the same confirmation: the rule is back, the next walk names the cause again, and the
record holds fix_applied then fix_undone.
"""

from __future__ import annotations

import pytest
from tests.tui.support.waiting import screen_text, settle, showing, wait_until

pytestmark = pytest.mark.lab

SCENARIO = "firewall.guest_blocks"


@pytest.mark.slow  # three walks on the real lab
async def test_apply_then_undo_from_the_changes_panel(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.commands._request import checked
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.probes.vocabulary import Verdict
    from vnetdoctor.session.recorder import SessionRecorder
    from vnetdoctor.store import SessionStore
    from vnetdoctor.tui.app import VnetDoctorApp
    from vnetdoctor.tui.launch import live_engine_factory
    from vnetdoctor.tui.screens.changes import ChangesScreen
    from vnetdoctor.tui.screens.dialogs import FixConfirmDialog
    from vnetdoctor.tui.screens.walk import WalkScreen
    from vnetdoctor.tui.state import SessionState

    instance = up(SCENARIO, lab_prefix)  # taken down by the lab_prefix fixture, also on failure
    request = checked(instance.request("en"), "en")
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="tui", scenario=SCENARIO)
    state = SessionState(request=request, lang="en", store=store, scenario=SCENARIO, allow_changes=True)
    app = VnetDoctorApp(state, live_engine_factory, recorder=recorder, autorun=True)

    async def walk_again(pilot, walk) -> None:  # type: ignore[no-untyped-def]
        await wait_until(pilot, lambda: walk.busy is None, timeout=90, what="the engine to be free")
        await pilot.press("a")
        await wait_until(pilot, lambda: walk.busy == "all", timeout=10, what="the walk to start")
        await wait_until(pilot, lambda: walk.busy is None, timeout=90, what="the walk to finish")
        await settle(pilot)

    async def confirm(pilot, made) -> None:  # type: ignore[no-untyped-def]
        await wait_until(pilot, lambda: showing(app, FixConfirmDialog), what="the confirmation")
        assert app.screen.focused.id == "cancel"
        await pilot.press("right", "enter")
        # The dialog hands its answer to the walk through the walk's queue: until the change is
        # made the walk may still look idle, and an `a` pressed then is refused as busy.
        await wait_until(pilot, made, timeout=90, what="the change to be made")

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                         timeout=90, what="the walk to finish")
        await settle(pilot)
        walk = app.screen
        assert walk.diagnosis.causes[0].cause == SCENARIO
        await pilot.press("f")
        await confirm(pilot, lambda: len(walk.session.changes) == 1)
        await walk_again(pilot, walk)
        assert walk.diagnosis.verdict is Verdict.HEALTHY, walk.diagnosis
        assert f"healthy · was: {SCENARIO}" in screen_text(app).splitlines()[0]
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        await settle(pilot)
        text = screen_text(app)
        assert f"$ ip netns exec {lab_prefix}guest nft" in text and "exit 0" in text
        await pilot.press("u")
        await confirm(pilot, lambda: walk.session.changes[0].undone is not None)
        await walk_again(pilot, walk)
        assert walk.diagnosis.causes[0].cause == SCENARIO  # the rule is back
        assert "was:" not in screen_text(app).splitlines()[0]
        await pilot.press("q")
        await pilot.pause()
    recorder.close()
    assert not recorder.errors
    recorded = store.load(store.resolve("last"))
    kinds = [e.kind for e in recorded.events]
    assert kinds.index("fix_applied") < kinds.index("fix_undone"), kinds
    # The record replays (a fix applied and undone, three walks) to the verdict it ended with.
    from vnetdoctor.knowledge.replay import ReplayEngine

    replay = VnetDoctorApp(SessionState(request=recorded.request, lang="en", replay=True, scenario=SCENARIO),
                           lambda req, ask, on_event: ReplayEngine.from_recorded(recorded, ask=ask, on_event=on_event),
                           autorun=True)
    async with replay.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert replay.screen.complete and replay.screen.diagnosis.causes[0].cause == SCENARIO
