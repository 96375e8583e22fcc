"""A step whose probes did not run is never a pass (issue 8, item 6).

The rule lives in ``StepContext.status``: every observation a step records is a
dependency of its pass unless the check declared it optional. These tests drive
it with recorded observations (skipped for a missing capability, or failed), and
then a whole engine walk in a process that pretends to have no capability at all
(``has_cap`` patched: no probe that needs one runs, so nothing is sent).
"""

from __future__ import annotations

from typing import Any

import pytest
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import FAIL, PASS, SKIP, Request
from vnetdoctor.knowledge.observer import RecordedObserver
from vnetdoctor.probes.base import ERROR, OK, SKIPPED, Observation
from vnetdoctor.probes.vantage import LOCAL, Vantage

GUEST = Vantage("netns", "vnd-h6-guest")


def _ctx(observations: list[Observation], lang: str = "en") -> StepContext:
    req = Request(target="198.18.0.11", host=LOCAL, guest=GUEST, lang=lang)
    return StepContext(Shared(req, RecordedObserver(observations), lang), "network.firewall", "network")


def _obs(probe: str, vantage: Vantage, status: str = OK, reason: str = "") -> Observation:
    return Observation(probe=probe, vantage=str(vantage), status=status, reason=reason)


def test_a_step_whose_probe_was_skipped_for_a_capability_is_skip_with_the_capability() -> None:
    ctx = _ctx([_obs("firewall.rules", LOCAL, SKIPPED, "needs CAP_NET_ADMIN")])
    ctx.observe("firewall.rules", LOCAL)
    ctx.passed("no DROP/REJECT rule on the path matches the probe traffic")
    assert ctx.status() == SKIP
    note = ctx.summary_note()
    assert note.startswith("skipped: needs CAP_NET_ADMIN")
    assert "firewall.rules on local" in note
    assert "DROP" not in note, "the note must not claim what the skipped probe did not see"


def test_the_note_is_in_the_operators_language() -> None:
    ctx = _ctx([_obs("firewall.rules", LOCAL, SKIPPED, "needs CAP_NET_ADMIN")], lang="zh")
    ctx.observe("firewall.rules", LOCAL)
    ctx.passed("x")
    assert ctx.summary_note().startswith("已跳过：需要 CAP_NET_ADMIN 权限")


def test_a_failed_probe_does_not_pass_either() -> None:
    ctx = _ctx([_obs("sysctl.net", GUEST, ERROR, "OSError: boom")])
    ctx.observe("sysctl.net", GUEST)
    ctx.passed("icmp_echo_ignore_all = 0")
    assert ctx.status() == SKIP
    assert "OSError: boom" in ctx.summary_note()


def test_what_ran_is_enough_when_the_check_says_the_rest_was_optional() -> None:
    ctx = _ctx([_obs("link.list", LOCAL), _obs("link.list", GUEST, SKIPPED, "needs CAP_SYS_ADMIN")])
    ctx.observe("link.list", LOCAL)
    ctx.observe("link.list", GUEST)
    ctx.optional("link.list", GUEST)
    ctx.passed("host br0 up")
    assert ctx.status() == PASS and ctx.summary_note() == "host br0 up"
    # Optional at one vantage is not optional at another.
    other = _ctx([_obs("link.list", LOCAL, SKIPPED, "needs CAP_SYS_ADMIN")])
    other.observe("link.list", LOCAL)
    other.optional("link.list", GUEST)
    other.passed("host br0 up")
    assert other.status() == SKIP


def test_a_finding_stands_on_what_was_seen() -> None:
    ctx = _ctx([_obs("firewall.rules", GUEST), _obs("firewall.rules", LOCAL, SKIPPED, "needs CAP_NET_ADMIN")])
    ctx.observe("firewall.rules", GUEST)
    ctx.observe("firewall.rules", LOCAL)
    ctx.found("firewall.guest_blocks", evidence=["inet filter input: drop"], where=GUEST, strict=False)
    assert ctx.status() == FAIL


def test_a_checks_own_skip_keeps_its_reason_and_names_what_did_not_run() -> None:
    ctx = _ctx([_obs("arp.probe", LOCAL, SKIPPED, "needs CAP_NET_RAW")])
    ctx.observe("arp.probe", LOCAL)
    ctx.skip("no next hop to resolve")
    assert ctx.status() == SKIP
    assert ctx.summary_note() == "no next hop to resolve; skipped: needs CAP_NET_RAW (arp.probe on local)"


# --- a whole walk without any capability ------------------------------------------------------

class _NoCapture:
    """Stands in for the packet capture: without CAP_NET_RAW no packet socket opens."""

    def __init__(self, points: Any, bpf: str = "") -> None:
        self.points = points

    def start(self) -> dict[str, str]:
        return {"capture": "needs CAP_NET_RAW"}

    def stop(self, linger: float = 0.0) -> list[Any]:
        return []


@pytest.fixture
def no_capabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as an unprivileged one sees it: no capability at all (tests run as root)."""
    from vnetdoctor.knowledge import trace
    from vnetdoctor.probes import caps

    monkeypatch.setattr(caps, "has_cap", lambda cap: False)
    monkeypatch.setattr(trace, "Capture", _NoCapture)


# The steps that read firewall rules, send packets or need the pings: none may pass.
PRIVILEGED_STEPS = ("symptom.ping", "datalink.bridge_filter", "datalink.mtu", "datalink.arp", "network.firewall")


@pytest.mark.usefixtures("no_capabilities")
def test_an_unprivileged_walk_passes_nothing_it_did_not_see_and_is_inconclusive() -> None:
    from vnetdoctor.knowledge.engine import Engine

    from vnetdoctor.commands.diagnose import exit_status

    # The local (root) namespace is only read here: every probe that sends needs a capability.
    request = Request(target="198.18.0.11", host=LOCAL, guest=GUEST, lang="en")
    diagnosis = Engine(request).run()
    steps = {s.step: s for s in diagnosis.steps}
    for step_id in PRIVILEGED_STEPS:
        assert steps[step_id].status != PASS, (step_id, steps[step_id].note)
    assert "CAP_NET_RAW" in steps["symptom.ping"].note
    # Every step the walk still calls a pass saw every probe it depends on, or said which it could not.
    for step in diagnosis.steps:
        if step.status == PASS:
            unseen = [o for o in step.observations if not o.ok]
            assert all(o.vantage == str(GUEST) or o.probe == "capture.path" for o in unseen), step
    # The guest namespace needs CAP_SYS_ADMIN: its probes are skipped saying so.
    guest_obs = [o for s in diagnosis.steps for o in s.observations if o.vantage == str(GUEST)]
    assert guest_obs and all(o.status == SKIPPED and "CAP_SYS_ADMIN" in o.reason for o in guest_obs)
    assert any(o.reason == "needs CAP_NET_ADMIN, CAP_SYS_ADMIN" for o in guest_obs), "both named at once"
    assert diagnosis.reachable is None and not diagnosis.causes
    assert exit_status(diagnosis) == 3
