"""Every scenario really breaks what it claims, its revert really restores the healthy
behaviour, and ``lab down`` leaves nothing behind.

The checks are run with tools that are not vnetdoctor's: iputils ``ping`` (and
``ping -M do -s 1400``), a plain socket connect and the C library's resolver,
each under ``ip netns exec`` (see :mod:`vnetdoctor.lab.checks`).
"""

from __future__ import annotations

import pytest
from tests.lab.support.lab_footprint import Footprint, explain

from vnetdoctor.lab import SCENARIOS, LabInstance, down, run_checks
from vnetdoctor.lab.lifecycle import down_report

pytestmark = pytest.mark.lab



@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_breaks_then_revert_restores(name: str, bring_up, lab_prefix: str) -> None:
    scenario = SCENARIOS[name]
    reason = scenario.available()
    if reason:
        pytest.skip(f"{name}: {reason}")
    # How long up and down take is a speed target: `vnetdoctor bench diagnose` prints it
    # (a loaded machine is slow, not wrong, so no test times it).
    inst: LabInstance = bring_up(name)
    footprint = Footprint.of(inst)
    try:
        assert inst.injected
        faulted = run_checks(inst.checks())
        assert all(r.as_expected for r in faulted), f"{name} with the fault:\n{explain(faulted)}"
        if scenario.cause is not None:
            inst.revert()
            assert not inst.injected
            restored = run_checks(inst.healthy_checks())
            assert all(r.as_expected for r in restored), f"{name} after revert:\n{explain(restored)}"
    finally:
        report = down_report(lab_prefix)
    assert not report.problems, report.problems
    assert footprint.leftovers() == []


def test_inject_after_revert_breaks_again(bring_up) -> None:
    inst = bring_up("firewall.guest_blocks")
    inst.revert()
    assert all(r.ok for r in run_checks(inst.healthy_checks()))
    inst.inject()
    again = run_checks(inst.checks())
    assert all(r.as_expected for r in again), explain(again)
    assert not all(r.ok for r in again)


def test_state_survives_in_another_instance(bring_up, lab_prefix: str) -> None:
    """attach() rebuilds the instance from the state file: revert works from there."""
    bring_up("tcp.port_closed")
    other = LabInstance.attach(lab_prefix)
    assert other.scenario.name == "tcp.port_closed" and other.injected
    assert "tcp" not in other.state.processes  # the fault is: the listener is stopped
    other.revert()
    assert "tcp" in other.state.processes
    results = run_checks(other.healthy_checks())
    assert all(r.as_expected for r in results), explain(results)
    down(lab_prefix)
    with pytest.raises(Exception, match="no lab is up"):
        LabInstance.attach(lab_prefix)
