"""One recording path: a TUI session and a CLI session of the same lab scenario record alike.

Why on the real lab: the guarantee is about the production wiring (the command builds
the recorder, the session core attaches it, the walk screen only renders), and a fake
engine would agree with itself whatever the wiring. Both runs record into one store;
their records must hold the same kinds of events, the same steps and the same verdict.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.tui.support.waiting import settle, wait_until

pytestmark = [pytest.mark.lab, pytest.mark.slow]  # two whole walks on a real lab

# The guest's firewall drops ping, and the walk has no guest vantage: what no probe can see
# is asked (an ``answer`` event in both records: the CLI's fallback, the TUI's dialog).
SCENARIO = "firewall.guest_blocks"


async def test_tui_and_cli_record_the_same_kinds_of_events(lab_prefix: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from vnetdoctor.commands import diagnose
    from vnetdoctor.commands._request import checked
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.session import live_engine_factory
    from vnetdoctor.session.recorder import open_recorder
    from vnetdoctor.store import SessionStore
    from vnetdoctor.tui.launch import build_app
    from vnetdoctor.tui.screens.dialogs import QuestionDialog
    from vnetdoctor.tui.screens.walk import WalkScreen
    from vnetdoctor.tui.state import SessionState

    instance = up(SCENARIO, lab_prefix)  # taken down by the lab_prefix fixture, also on failure
    request = checked(replace(instance.request("en"), guest=None), "en")
    db = tmp_path / "s.db"

    # The CLI: `demo --no-tui` / `diagnose` in-process, recording into db.
    status = diagnose.diagnose(request, db=str(db), record=True, source="diagnose", scenario=SCENARIO)
    assert status in (1, 3), capsys.readouterr()

    # The TUI, as `demo` builds it: the command opens the recorder, the App is the production one.
    store, recorder = open_recorder(db, source="demo", scenario=SCENARIO)
    state = SessionState(request=request, lang="en", store=store, scenario=SCENARIO)
    app = build_app(state, live_engine_factory, recorder=recorder, autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        answered = 0
        while not (isinstance(app.screen, WalkScreen) and app.screen.complete):
            await wait_until(pilot, lambda: isinstance(app.screen, QuestionDialog) or (
                isinstance(app.screen, WalkScreen) and app.screen.complete), timeout=90, what="a question or the verdict")
            if isinstance(app.screen, QuestionDialog):
                await pilot.press("escape")  # "don't know", as the CLI's fallback answers
                answered += 1
                await pilot.pause()
        assert answered >= 1
        await settle(pilot)
        await wait_until(pilot, lambda: state.session_id is not None, timeout=30, what="the session id")
        await pilot.press("q")
        await pilot.pause()
    assert recorder.close().complete and not recorder.errors
    store.close()

    with SessionStore(db, readonly=True) as reader:
        by_source = {s.source: reader.load(s.id) for s in reader.sessions()}
    assert set(by_source) == {"diagnose", "demo"}
    cli, tui = by_source["diagnose"], by_source["demo"]
    assert tui.id == state.session_id  # the id the walk's screen was told
    assert cli.finished is not None and tui.finished is not None
    assert {e.kind for e in tui.events} == {e.kind for e in cli.events} == {"answer"}
    assert [e.detail["answer"] for e in tui.events] == [e.detail["answer"] for e in cli.events]
    assert sorted(s.step for s in tui.steps) == sorted(s.step for s in cli.steps)
    assert tui.verdict == cli.verdict
    assert [c.cause for c in tui.causes()] == [c.cause for c in cli.causes()]
