"""Question nodes: what no probe can see is asked, and the answer becomes the verdict."""

from __future__ import annotations

import os

import pytest

from vnetdoctor.knowledge.apply import FixRefused, fix_target
from vnetdoctor.knowledge.engine import Engine
from vnetdoctor.knowledge.model import Question, Request
from vnetdoctor.probes.vantage import parse_vantage
from tests.lab.support.variants import Variant, ns_sh

pytestmark = pytest.mark.lab


@pytest.fixture
def blind_guest():  # type: ignore[no-untyped-def]
    """A guest whose firewall drops pings, seen only from the host (no guest vantage)."""
    v = Variant(f"vnd-q{os.getpid() % 100000}-")
    v.destroy()
    try:
        v.build()
        ns_sh(v.vm, "nft", "add table inet g; add chain inet g i { type filter hook input priority 0; }; "
              "add rule inet g i icmp type echo-request drop")
        yield v
    finally:
        v.destroy()


def _request(v: Variant) -> Request:
    return Request(target=v.guest_ip, host=parse_vantage(f"netns:{v.hv}"), guest=None, lang="en")


def test_operator_answer_names_the_cause(blind_guest: Variant) -> None:
    asked: list[Question] = []

    def ask(q: Question) -> str:
        asked.append(q)
        return "firewall" if q.step == "application.guest_console" else "unknown"

    d = Engine(_request(blind_guest), ask=ask).run()
    assert "application.guest_console" in [q.step for q in asked]
    q = next(q for q in asked if q.step == "application.guest_console")
    assert "firewall" in q.choices and "ip addr" in q.text
    assert d.causes and d.causes[0].cause == "firewall.guest_blocks"
    assert d.causes[0].evidence[0].text.startswith("operator:")
    # The operator's word names no rule: every fix is guidance saying what it needs, for the
    # guest's console, and nothing here can run it.
    fixes = d.causes[0].fixes
    assert fixes and all(not f.runnable and f.missing and f.command == "" for f in fixes)
    assert {"handle", "rule"} <= {m for f in fixes for m in f.missing}
    assert {f.where for f in fixes} == {"the guest's console"}
    for fix in fixes:
        with pytest.raises(FixRefused):
            fix_target(fix)


def test_without_an_operator_the_question_is_skipped(blind_guest: Variant) -> None:
    d = Engine(_request(blind_guest)).run()
    console = next(s for s in d.steps if s.step == "application.guest_console")
    assert console.status == "skip" and console.answer == "unknown"
    assert d.reachable is False and d.causes == ()
