"""Accuracy: every lab scenario is diagnosed first-cause-correct; healthy ones name nothing.

The walk runs in-process (the same Engine the CLI and the TUI use) against the
real lab. The variants in ``test_diagnose_variants.py`` build faults differently
from the lab, so that rules keyed on how the lab builds a fault fail there.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.lab.support.diagnosis import describe, diagnose
from tests.lab.support.kernel_expected import kernel_mismatch
from vnetdoctor import lab
from vnetdoctor.knowledge.apply import apply_fix
from vnetdoctor.knowledge.model import MACHINE_WIDE, Fix
from vnetdoctor.knowledge.render import acts_machine_wide

pytestmark = pytest.mark.lab

RUNNABLE = [name for name, s in lab.SCENARIOS.items() if s.available() is None]
SKIPPED = [name for name, s in lab.SCENARIOS.items() if s.available() is not None]


@pytest.mark.parametrize("name", RUNNABLE)
def test_scenario_first_cause(name: str, lab_prefix: str) -> None:
    scenario = lab.SCENARIOS[name]
    with lab.up(name, lab_prefix) as inst:
        d = diagnose(inst.diagnose_args())
    if scenario.cause is None:
        assert d.reachable is True, describe(d)
        assert d.causes == (), describe(d)
    else:
        assert d.causes, describe(d)
        assert d.causes[0].cause == scenario.cause, describe(d)
        first = d.causes[0]
        assert first.evidence, "a cause is named with its evidence"
        assert first.fixes and all(f.risk for f in first.fixes)
    # The kernel's own word on the probe packets (kernel.drops), as measured on this kernel.
    assert kernel_mismatch(name, d) is None, kernel_mismatch(name, d)
    if scenario.cause != "kernel.drop_unexplained":
        assert "kernel.drop_unexplained" not in [c.cause for c in d.causes], describe(d)
    for cause in d.causes:
        for fix in cause.fixes:
            check_fix(fix)
    # Every line of proof says which probe saw it and where (issue 10: --json and the detail view).
    unsourced = [(c.cause, e.text) for c in d.causes for e in c.evidence if not (e.probe and e.vantage)]
    assert unsourced == [], unsourced


# A placeholder as the catalogue writes it ({dev}) or as it was once rendered (<dev>).
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|<[a-z_]+>")


def check_fix(fix: Fix) -> None:
    """Runnable: complete, and displayed as exactly its argv. Otherwise guidance naming what it lacks."""
    if fix.runnable:
        assert fix.command and fix.undo, fix
        assert shlex.split(fix.command) == list(fix.argv), fix
        assert shlex.split(fix.undo) == list(fix.undo_argv), fix
        left = [w for w in fix.argv + fix.undo_argv if PLACEHOLDER.search(w)]
        assert left == [], f"placeholder left in a runnable fix: {fix.command}"
    elif fix.missing == (MACHINE_WIDE,):
        # Known values, but in a namespace it would act on the whole machine: the command is
        # shown for the real guest or host, and nothing here can run it.
        assert fix.command and fix.argv == fix.undo_argv == () and fix.where.startswith("netns:"), fix
        assert acts_machine_wide(shlex.split(fix.command)), fix
    else:
        assert fix.missing and fix.argv == fix.undo_argv == () and fix.command == fix.undo == "", fix


@pytest.mark.parametrize("name", SKIPPED)
def test_unavailable_scenarios_say_why(name: str) -> None:
    reason = lab.SCENARIOS[name].available()
    assert reason and "\n" not in reason


def test_fix_then_rerun_heals(lab_prefix: str) -> None:
    """The fix the tool prints, applied as the walk applies it, makes the next diagnosis
    healthy; its undo (the rule's own words, re-added) brings the fault back."""
    import subprocess

    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        d = diagnose(inst.diagnose_args())
        assert d.causes[0].cause == "firewall.guest_blocks"
        fix = d.causes[0].fixes[0]
        assert apply_fix(fix, timeout=10).ok
        after = diagnose(inst.diagnose_args())
        assert after.reachable is True and after.causes == (), describe(after)
        subprocess.run(list(fix.undo_argv), check=True, capture_output=True)
        again = diagnose(inst.diagnose_args())
        assert again.causes and again.causes[0].cause == "firewall.guest_blocks"
