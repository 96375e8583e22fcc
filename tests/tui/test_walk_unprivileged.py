"""The walk shows what the engine decided: a step whose probes were skipped is never ✓.

The firewall step here is decided by the real ``StepContext`` (its firewall probes
skipped for CAP_NET_ADMIN, the check calling ``passed`` as it does when it finds
no rule), then handed to the walk through the fake engine.
"""

from __future__ import annotations

from dataclasses import replace

from tests.tui.support.engine import GUEST, HOST, REQUEST, make_app, scenario_results
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import SKIP, StepResult
from vnetdoctor.knowledge.observer import RecordedObserver
from vnetdoctor.probes.base import SKIPPED, Observation
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.tui.widgets.flowchart import FlowchartSidebar
from tests.tui.support.waiting import screen_text, settle, wait_until

SIZE = (100, 30)


def _unprivileged_firewall_step() -> StepResult:
    skipped = [Observation("firewall.rules", str(v), SKIPPED, reason="needs CAP_NET_ADMIN") for v in (HOST, GUEST)]
    ctx = StepContext(Shared(REQUEST, RecordedObserver(skipped), "en"), "network.firewall", "network")
    for vantage in (HOST, GUEST):
        ctx.observe("firewall.rules", vantage)
    ctx.passed("no DROP/REJECT rule on the path matches the probe traffic")
    return StepResult("network.firewall", "network", "Firewall rules", ctx.status(), note=ctx.summary_note(),
                      observations=tuple(ctx.observations))


def _results() -> list[StepResult]:
    step = _unprivileged_firewall_step()
    out = []
    for r in scenario_results():
        if r.step == "network.firewall":
            out.append(replace(step, duration_ms=r.duration_ms))
        else:
            out.append(replace(r, findings=()) if r.findings else r)
    return out


async def test_a_skipped_firewall_step_is_shown_skipped_with_the_capability() -> None:
    assert _unprivileged_firewall_step().status == SKIP
    app, _ = make_app(results=_results)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        walk = next(s for s in reversed(app.screen_stack) if isinstance(s, WalkScreen))
        assert walk.query_one(FlowchartSidebar).status("network.firewall") == SKIP
        walk.query_one(FlowchartSidebar).select("network.firewall")
        await settle(pilot)
        text = screen_text(app)
        line = next(line for line in text.splitlines() if "Firewall rules" in line)
        assert "✓" not in line
        assert "skipped: needs CAP_NET_ADMIN" in text
        assert "no DROP/REJECT rule" not in text


def _all_skipped_results() -> list[StepResult]:
    """An unprivileged walk: the pings skipped for CAP_NET_RAW, the firewall for CAP_NET_ADMIN, no cause."""
    ping = Observation("icmp.echo", str(HOST), SKIPPED, reason="needs CAP_NET_RAW")
    out = []
    for r in _results():
        if r.step == "symptom.ping":
            out.append(replace(r, status=SKIP, note="skipped: needs CAP_NET_RAW (icmp.echo on netns:vnd-host)",
                               observations=(ping,), findings=()))
        else:
            out.append(replace(r, status=SKIP if r.status == "fail" else r.status, findings=()))
    return out


async def test_the_verdict_says_which_capabilities_would_check_the_skipped_steps() -> None:
    from vnetdoctor.tui.widgets.verdict import VerdictView

    for lang, hint in (("en", "Skipped for lack of CAP_NET_ADMIN, CAP_NET_RAW: 2 of"),
                       ("zh", "因缺少 CAP_NET_ADMIN、CAP_NET_RAW 权限而跳过")):
        app, _ = make_app(results=_all_skipped_results, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            verdict = app.screen.query_one(VerdictView)
            await wait_until(pilot, lambda: verdict.diagnosis is not None, what="the verdict")
            headline = app.screen.query_one("#verdict-headline").render()
            assert hint in headline.plain, headline.plain
