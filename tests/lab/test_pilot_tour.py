"""The operator's whole tour at 80x24 with NO_COLOR, one pilot, every screen on the way.

Start → pick the lab target → the whole walk → the question → a step in full →
packets with a display filter → tables → back to the walk. Each stop checks what the
operator would read there. The lab is real (the Start screen finds it as an operator's
would, and the form checks its namespaces); the engine behind the walk is the fake one
(fakes_walk), so the tour is the same on every run, with the guest-console question
asked at the end.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.tui.support.views import lost_at_guest
from tests.tui.support.engine import CONSOLE_STEP, console_question, make_app, with_console_step
from tests.tui.support.waiting import screen_text, settle, showing, wait_until
from vnetdoctor.probes.base import OK, Observation
from vnetdoctor.tui.screens.detail import DetailDialog
from vnetdoctor.tui.screens.dialogs import QuestionDialog
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.start import StartScreen
from vnetdoctor.tui.screens.tables import TablesScreen
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.session.targets import Target
from vnetdoctor.tui.widgets.flowchart import FlowchartSidebar
from vnetdoctor.tui.widgets.packet_list import PacketList

pytestmark = pytest.mark.lab
SCENARIO = "firewall.guest_blocks"


def _results():  # type: ignore[no-untyped-def]
    """The walk with the guest console asked last, the symptom step carrying its capture."""
    results = with_console_step()
    capture = Observation("capture.path", "netns:vnd-host", OK, rows=tuple(lost_at_guest()),
                          raw="listened on br0@netns:vnd-host", params=(("filter", "icmp or arp"),))
    return [replace(r, observations=(*r.observations, capture)) if r.step == "symptom.ping" else r
            for r in results]


async def test_the_whole_tour_at_80x24_without_colour(monkeypatch: pytest.MonkeyPatch, lab_prefix: str) -> None:
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.session.targets import discover

    monkeypatch.setenv("NO_COLOR", "1")
    up(SCENARIO, lab_prefix)  # taken down by the lab_prefix fixture, also on failure

    def ours() -> tuple[list[Target], list[str]]:  # this test's lab, not other labs on the machine
        return [t for t in discover()[0] if t.kind == "lab" and t.name.startswith(lab_prefix)], []

    app, deps = make_app(request=None, discover_fn=ours, results=_results, question=console_question())
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        # Start: the running lab is listed; Enter walks it.
        # Generous: the discovery worker and the first paint share two cores with the lab.
        await wait_until(pilot, lambda: showing(app, StartScreen) and lab_prefix in screen_text(app),
                         timeout=30, what="the lab target")
        await settle(pilot)
        await pilot.press("enter")
        # The whole walk runs, then the guest-console question comes as a labelled list.
        await wait_until(pilot, lambda: showing(app, QuestionDialog), timeout=20, what="the question")
        assert str(deps.engines[0].request.host) == f"netns:{lab_prefix}host"  # the lab's own vantages
        await pilot.press("1")
        await settle(pilot)
        walk = app.screen
        assert isinstance(walk, WalkScreen) and walk.complete
        assert deps.engines[0].answers and CONSOLE_STEP in walk.results
        assert "firewall.guest_blocks" in screen_text(app) and "✗" in screen_text(app)
        # A step in full: Enter on the firewall step shows its whole note.
        walk.query_one(FlowchartSidebar).focus()
        walk.goto("network.firewall")
        await pilot.press("enter")
        await wait_until(pilot, lambda: showing(app, DetailDialog), what="the step in full")
        assert dict(app.screen.fields)["note"] == walk.results["network.firewall"].note
        await pilot.press("q")
        assert app.screen is walk
        # Packets, with a display filter on the recording.
        await pilot.press("p")
        await wait_until(pilot, lambda: showing(app, PacketsScreen) and app.screen.mode == "recorded",
                         what="the recorded packets")
        packets = app.screen
        plist = packets.query_one(PacketList)
        total = plist.row_count
        await pilot.press("slash", *"iface:vnet0", "enter")
        assert 0 < plist.row_count < total and "showing" in screen_text(app)
        await pilot.press("escape", "escape")  # clears the filter, then leaves
        assert app.screen is walk
        # Tables, and back.
        await pilot.press("t")
        await wait_until(pilot, lambda: showing(app, TablesScreen), what="the tables")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is walk
