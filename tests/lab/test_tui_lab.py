"""The TUI on the real lab: what `vnetdoctor demo` does, driven by the pilot (root, lab namespaces).

The guest's firewall drops ping; the walk runs the real engine with the real
probes in the lab's namespaces, reaches the verdict naming the cause with its
fix, opens the packets and tables, records the session, and the recording
replays to the same verdict.
"""

from __future__ import annotations

import pytest
from tests.tui.support.waiting import screen_text, settle, wait_until

pytestmark = pytest.mark.lab

SCENARIO = "firewall.guest_blocks"


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_demo_flow_reaches_the_verdict_on_the_real_lab(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.knowledge.replay import ReplayEngine
    from vnetdoctor.tui.app import VnetDoctorApp
    from vnetdoctor.tui.launch import live_engine_factory
    from vnetdoctor.session.recorder import SessionRecorder
    from vnetdoctor.tui.screens.packets import PacketsScreen
    from vnetdoctor.tui.screens.tables import TablesScreen
    from vnetdoctor.tui.screens.walk import WalkScreen
    from vnetdoctor.tui.state import SessionState
    from vnetdoctor.tui.widgets.flowchart import VERDICT, FlowchartSidebar

    from vnetdoctor.commands._request import checked
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.store import SessionStore

    instance = up(SCENARIO, lab_prefix)  # taken down by the lab_prefix fixture, also on failure
    request = checked(instance.request("en"), "en")  # what `demo` does: the lab yields a Request
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="demo", scenario=SCENARIO)
    state = SessionState(request=request, lang="en", store=store, scenario=SCENARIO)
    app = VnetDoctorApp(state, live_engine_factory, recorder=recorder, autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                         timeout=90, what="the walk to finish")
        await settle(pilot)
        walk = app.screen
        sidebar = walk.query_one(FlowchartSidebar)
        assert sidebar.current() == VERDICT
        assert walk.diagnosis is not None and walk.diagnosis.causes[0].cause == SCENARIO
        text = screen_text(app)
        assert "NOT reachable" in text and SCENARIO in text
        assert f"ip netns exec {lab_prefix}guest" in text  # the fix, runnable as shown
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard.startswith(f"ip netns exec {lab_prefix}guest")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PacketsScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TablesScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is walk
        await pilot.press("q")
        await pilot.pause()
    recorder.close()
    assert not recorder.errors

    recorded = store.load(store.resolve("last"))
    assert recorded.source == "demo" and recorded.scenario == SCENARIO
    assert [c.cause for c in recorded.causes()][:1] == [SCENARIO]
    replay_state = SessionState(request=recorded.request, lang="en", replay=True, scenario=SCENARIO)
    replay = VnetDoctorApp(
        replay_state,
        lambda req, ask, on_event: ReplayEngine.from_recorded(recorded, ask=ask, on_event=on_event),
        autorun=True,
    )
    async with replay.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert replay.screen.complete
        assert replay.screen.diagnosis.causes[0].cause == SCENARIO
