"""The verdict's "took" is the time the walk spent, not the time the operator spent reading.

Found in a walk off the demo path: after applying a fix and re-running, the healthy
verdict said "took 30.7 s" for a re-run of two steps that took about one second,
because the duration ran from the first walk's start through the fix dialog.
"""

from __future__ import annotations

import time

import pytest

from vnetdoctor.knowledge import engine as engine_mod
from vnetdoctor.knowledge.model import PASS, Request, StepResult
from vnetdoctor.probes.vantage import LOCAL, Vantage

GUEST = Vantage("netns", "vd-dur-guest")
STEP_S = 0.05


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> engine_mod.Engine:
    eng = engine_mod.Engine(Request(target="198.18.0.11", host=LOCAL, guest=GUEST, lang="en"))
    monkeypatch.setattr(eng, "prefetch", lambda: None)  # nothing is probed: this is about the clock

    def run_one(step_id: str) -> StepResult:
        time.sleep(STEP_S)
        result = StepResult(step_id, "network", step_id, PASS)
        eng._results[step_id] = result
        return result

    monkeypatch.setattr(eng, "_run_one", run_one)
    return eng


def test_a_rerun_after_a_pause_reports_only_its_own_time(engine: engine_mod.Engine) -> None:
    first = engine.run()
    assert first.duration_ms >= STEP_S * 1000 * 2  # every step ran once
    time.sleep(0.6)  # the operator reads the verdict and applies a fix
    took_wall = _wall_ms(engine.run_step, engine_mod.SYMPTOM)  # the re-run
    took = engine.diagnosis().duration_ms
    # At most the re-run's own wall time, however slow the machine: the pause is not in it.
    assert STEP_S * 1000 <= took <= took_wall, (took, took_wall)


def test_step_by_step_counts_the_steps_not_the_pauses_between_them(engine: engine_mod.Engine) -> None:
    steps = [s.id for s in engine.plan()]
    walls = []
    for step_id in steps[:3]:
        walls.append(_wall_ms(engine.run_step, step_id))
        time.sleep(0.2)
    took = engine.diagnosis().duration_ms
    assert STEP_S * 1000 * 3 <= took <= sum(walls), (took, walls)  # the steps' time, no pause


def _wall_ms(fn, *args) -> float:  # type: ignore[no-untyped-def]
    """How long ``fn(*args)`` took from outside: an upper bound of the time the engine counts."""
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


# -- what the time is of: said with it (knowledge/took.py) ------------------------------------


def test_took_says_which_walk_its_time_is_of(engine: engine_mod.Engine) -> None:
    """Found off the demo path: after a fix, its undo and their re-runs the verdict said
    "took 611 ms" before and after the undo, read as the whole diagnosis's time. The time
    is the latest run's, and the diagnosis says which run that was."""
    from vnetdoctor.knowledge.took import took_text

    walk = engine.run()
    assert walk.extra["took"] == {"run": "walk"}
    assert took_text(walk.extra["took"], 2300, "en") == "the walk took 2.3 s"
    engine.run_step("network.firewall")  # a fix's re-run: the symptom runs again with it
    engine.rewalk(["datalink.mtu", "transport.tcp"])  # the outcome changed: the session walks these again
    took = engine.diagnosis().extra["took"]
    assert took == {"run": "rerun", "step": "network.firewall", "n": 4}
    titles = {"network.firewall": "Firewall"}.get
    assert took_text(took, 611, "en", titles) == "the latest run (Firewall again, 4 steps) took 611 ms"
    assert took_text(took, 611, "zh", titles) == "最近一次运行（重新运行Firewall，共 4 步）耗时 611 毫秒"
    engine.run_step(engine_mod.SYMPTOM)  # a second re-run (the undo's) is its own run, not added
    took = engine.diagnosis().extra["took"]
    assert took == {"run": "rerun", "step": engine_mod.SYMPTOM, "n": 1}
    assert took_text(took, 50, "en") == f"the latest run ({engine_mod.SYMPTOM} again) took 50 ms"
    assert engine.run().extra["took"] == {"run": "walk"}
    assert took_text(None, 2300, "en") == "took 2.3 s"  # a record from before: no claim about which walk


def test_step_by_step_is_said_as_the_steps_run(engine: engine_mod.Engine) -> None:
    from vnetdoctor.knowledge.took import took_text

    for step in [s.id for s in engine.plan()][:2]:
        engine.run_step(step)
    took = engine.diagnosis().extra["took"]
    assert took == {"run": "steps"} and took_text(took, 100, "en") == "the steps run took 100 ms"
