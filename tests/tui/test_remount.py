"""A replay plays a re-run's results back to back: views that go and come back must not clash.

Regression: replaying a session with an applied fix died with ``DuplicateIds`` —
a re-run dropped an observation (its view's ``remove()`` lands on a later tick)
and the next result brought it back under the same widget id.
"""

from __future__ import annotations

from dataclasses import replace

from vnetdoctor.knowledge.model import Diagnosis

from tests.tui.support.engine import make_app, scenario_results
from tests.tui.support.waiting import settle, wait_until


async def test_results_that_drop_and_bring_back_views_in_one_tick() -> None:
    app, _deps = make_app(autorun=False)
    results = scenario_results()
    full = next(r for r in results if r.observations and r.findings)
    bare = replace(full, observations=(), findings=())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        pane = screen._pane(full.step)
        await settle(pilot)
        pane.display = True
        for result in (full, bare, full, bare, full):  # no await in between: one tick
            pane.update_result(result)
        await settle(pilot)
        assert pane._obs_views, "the last result's observations are shown"
        shown = [w for w in pane.query("ObservationView") if w.parent is not None]
        assert len({w.id for w in shown}) == len(shown)


async def test_verdict_causes_that_go_and_come_back_in_one_tick() -> None:
    from vnetdoctor.tui.widgets.verdict import VerdictView

    app, _deps = make_app(autorun=False)
    results = scenario_results()
    finding = next(f for r in results for f in r.findings)
    request = app.state.request
    with_cause = Diagnosis(request=request, reachable=False, causes=(finding,), steps=tuple(results))
    healthy = Diagnosis(request=request, reachable=True, causes=(), steps=tuple(results))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        verdict = app.screen.query_one(VerdictView)
        verdict.display = True
        await settle(pilot)
        for d in (with_cause, healthy, with_cause, healthy, with_cause):
            verdict.show(d, total_steps=len(results), complete=True)
        await settle(pilot)
        await wait_until(pilot, lambda: len(verdict._views) == 1, what="one cause view")
