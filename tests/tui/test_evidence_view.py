"""Evidence as the TUI shows it: each line with its probe and vantage, an answer marked as the operator's.

Issue 10, items 2 and 3: a cause the operator's answer confirmed reads "(your answer)"
in the verdict whatever its severity, and the detail view (Enter on a step) names where
every line of proof came from, as the verdict pane and ``diagnose --json`` do.
"""

from __future__ import annotations

import pytest
from tests.tui.support.engine import fake_knowledge
from vnetdoctor.knowledge.context import OPERATOR, OPERATOR_PROBE
from vnetdoctor.knowledge.model import FAIL, WARN, Evidence, Finding, StepResult
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.tui.screens.detail import step_detail
from vnetdoctor.tui.widgets.findings import finding_text

SAID = Evidence("operator: the guest's firewall drops it", OPERATOR_PROBE, OPERATOR)
SEEN = Evidence("nft rule drops echo-request", "firewall.rules", "netns:lab-guest")


@pytest.mark.parametrize("severity", [FAIL, WARN])
def test_a_cause_from_an_answer_says_your_answer(severity: str) -> None:
    finding = Finding("firewall.guest_blocks", "network", "the guest drops it", (SAID,), (), severity)
    headline = finding_text(finding, Translator("en"), fake_knowledge(), 1).plain.splitlines()[0]
    assert "firewall.guest_blocks (your answer)" in headline


def test_a_cause_a_probe_saw_does_not() -> None:
    finding = Finding("firewall.guest_blocks", "network", "the guest drops it", (SEEN,), ())
    assert "your answer" not in finding_text(finding, Translator("en"), fake_knowledge(), 1).plain


def test_the_detail_view_names_each_lines_probe_and_vantage() -> None:
    finding = Finding("firewall.guest_blocks", "network", "the guest drops it", (SEEN, SAID), ())
    result = StepResult("network.firewall", "network", "Firewall rules", FAIL, "drops", findings=(finding,))
    shown = step_detail(result, Translator("en")).shown_text()
    assert "nft rule drops echo-request  (firewall.rules @ netns:lab-guest)" in shown
    assert "operator: the guest's firewall drops it  (question @ operator)" in shown
