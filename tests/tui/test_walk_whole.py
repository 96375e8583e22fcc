"""The walk runs whole, wherever it was started, and its header tells the truth while it does.

A walk picked on the Start screen (or opened by ``tui --target``) runs every step,
like the demo; the header counts the steps as they run ("7/20 · 1.2 s · running:
Routing table"), says where a walk that died stopped, and says "inconclusive" only
once every step has run. The notes the operator reads in the TUI name no CLI flag.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from tests.tui.support.engine import PATH, FakeEngine, in_language, make_app, scenario_results
from tests.tui.support.targets import discover
from vnetdoctor.knowledge.checks import CHECKS, load_checks
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import FAIL, PASS, Request, parse_vantage
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.tui.screens.walk import WalkScreen
from tests.tui.support.waiting import screen_text, settle, wait_until

SIZE = (80, 24)
FLAGS = ("--guest", "--host", "--target", "--port", "--from")


def _no_cause_results():  # type: ignore[no-untyped-def]
    """Unreachable, and no step names a cause: the walk ends inconclusive."""
    out = []
    for r in scenario_results():
        if r.step == "symptom.ping":
            out.append(r)
        else:
            out.append(replace(r, findings=(), status=PASS if r.status == FAIL else r.status))
    return out


async def test_a_start_screen_pick_runs_every_step() -> None:
    app, deps = make_app(request=None, discover_fn=discover)  # the App's default, as `tui` runs it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the first guest found
        await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                         what="the whole walk")
        await settle(pilot)
        walk = app.screen
        planned = [s.id for s in deps.engines[0].plan()]
        assert deps.engines[0].calls == planned
        assert set(walk.results) == set(planned)
        assert "firewall.guest_blocks" in screen_text(app).splitlines()[0]
        # Step by step stays one key away: r re-runs the highlighted step alone.
        calls = len(deps.engines[0].calls)
        walk.goto("network.route")
        await pilot.press("r")
        await settle(pilot)
        assert deps.engines[0].calls[calls:] == ["network.route"]


async def test_the_header_counts_the_steps_and_says_inconclusive_only_at_the_end() -> None:
    gate = threading.Event()
    app, deps = make_app(results=_no_cause_results, gates={"network.route": gate})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "network.route" in getattr(app.screen, "_running_steps", ()),
                         what="the walk reaching the routing table")
        await pilot.pause()
        header = screen_text(app).splitlines()[0]
        done = sum(1 for r in _no_cause_results()[:8])  # the steps before network.route
        assert f"{done}/13" in header and "running: Routing" in header, header
        assert "inconclusive" not in screen_text(app)
        gate.set()
        await wait_until(pilot, lambda: app.screen.complete, what="the end of the walk")
        await settle(pilot)
        assert "? inconclusive" in screen_text(app).splitlines()[0]


async def test_a_step_by_step_walk_is_not_inconclusive_before_every_step_ran() -> None:
    app, _deps = make_app(results=_no_cause_results, autorun=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        walk = app.screen
        assert list(walk.results) == ["symptom.ping"]
        header = screen_text(app).splitlines()[0]
        assert "inconclusive" not in header and "1/13" in header, header
        # the symptom step's mark line says what it saw, not "a cause"
        assert "a cause" not in screen_text(app)
        assert "failed" in screen_text(app)


async def test_a_walk_that_dies_says_where_it_stopped() -> None:
    class Dying(FakeEngine):
        def run_step(self, step_id: str):  # type: ignore[no-untyped-def]
            if step_id == "network.route":
                raise RuntimeError("the probe thread died")
            return super().run_step(step_id)

    engines: list[FakeEngine] = []

    def factory(req, ask, on_event):  # type: ignore[no-untyped-def]
        engine = Dying(req, in_language(_no_cause_results(), req.lang), ask=ask, on_event=on_event, points=PATH)
        engines.append(engine)
        return engine

    app, _deps = make_app(engine_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = screen_text(app).splitlines()[0]
        assert "stopped at 8/13" in header, header
        assert "inconclusive" not in header


async def test_the_walk_asks_the_engine_for_notes_written_for_the_tui() -> None:
    app, deps = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert deps.engines[0].request.audience == "tui"
        assert app.state.request.audience == "cli"  # what was asked is unchanged (and recorded as is)
        # Every pane an operator can open, step by step: no CLI flag anywhere.
        walk = app.screen
        for step in [s.id for s in deps.engines[0].plan()] + ["verdict"]:
            walk.goto(step)
            await pilot.pause()
            text = screen_text(app)
            assert not [f for f in FLAGS if f in text], (step, text)


def _note(step_id: str, audience: str, lang: str = "en", **request: object) -> str:
    load_checks()
    req = Request(target=request.get("target", "198.18.0.11"), host=parse_vantage("netns:nobody-host"),  # type: ignore[arg-type]
                  guest=request.get("guest"), audience=audience)  # type: ignore[arg-type]
    req = replace(req, lang=lang)
    ctx = StepContext(Shared(req, Observer(), lang), step_id, step_id.split(".")[0])
    CHECKS[step_id](ctx)
    return ctx.summary_note()


def test_skip_notes_name_a_flag_for_the_cli_and_the_start_screen_for_the_tui() -> None:
    guest_ns = parse_vantage("netns:nobody-guest")
    cases = [("platform.libvirt", {"guest": guest_ns}), ("physical.guest_nic", {}),
             ("transport.tcp", {}), ("application.dns", {})]
    for step_id, request in cases:
        cli = _note(step_id, "cli", "en", **request) + _note(step_id, "cli", "zh", **request)
        tui = _note(step_id, "tui", "en", **request) + _note(step_id, "tui", "zh", **request)
        assert any(f in cli for f in FLAGS), (step_id, cli)
        assert not any(f in tui for f in FLAGS), (step_id, tui)
    assert _note("platform.libvirt", "tui") == "no libvirt guest chosen (pick one on the Start screen)"
