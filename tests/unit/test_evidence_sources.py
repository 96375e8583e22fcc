"""Every line of proof says where it came from, and an operator's answer is marked as theirs.

Issue 10: ``diagnose --json`` carried empty ``probe``/``vantage`` fields for the lines a
check built from what its step observed, and a cause confirmed by an answer looked like
any probe's finding. The lab test (tests/lab/test_diagnose_accuracy.py) checks every
scenario's evidence; these pin the rules without a lab.
"""

from __future__ import annotations

from vnetdoctor.knowledge.context import OPERATOR, Shared, StepContext
from vnetdoctor.knowledge.model import FAIL, Evidence, Request
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import parse_vantage

HOST = parse_vantage("netns:lab-host")


def _ctx(step: str = "datalink.bridge_port", answer: str | None = None, lang: str = "en") -> StepContext:
    ask = (lambda q: answer) if answer is not None else None
    return StepContext(Shared(Request(target="198.18.0.11", host=HOST, guest=None), Observer(), lang, ask=ask),
                       step, "datalink")


def test_a_line_built_from_the_step_names_the_probes_that_ran_and_where() -> None:
    ctx = _ctx()
    ctx.record(Observation(probe="link.list", vantage=str(HOST)))
    ctx.record(Observation(probe="bridge.ports", vantage=str(HOST)))
    ctx.record(Observation(probe="bridge.fdb", vantage=str(HOST), status="skipped", reason="needs root"))
    finding = ctx.found("bridge.port_detached", evidence=["vnet0 is not a port of br0"], where=HOST,
                        port="vnet0", bridge="br0", other="none")
    (line,) = finding.evidence
    # The skipped probe saw nothing, so it is not named as a source.
    assert (line.probe, line.vantage) == ("link.list, bridge.ports", "netns:lab-host")


def test_a_line_that_names_its_source_keeps_it() -> None:
    ctx = _ctx()
    ctx.record(Observation(probe="link.list", vantage=str(HOST)))
    ev = Evidence("echo seen on vnet0", "capture.path", "netns:lab-guest")
    finding = ctx.found("bridge.port_detached", evidence=[ev], where=HOST, port="vnet0", bridge="br0", other="none")
    assert finding.evidence[0] == ev


def test_a_line_with_nothing_observed_claims_no_source() -> None:
    finding = _ctx().found("bridge.port_detached", evidence=["a line"], where=HOST, port="vnet0", bridge="br0",
                           other="none")
    assert (finding.evidence[0].probe, finding.evidence[0].vantage) == ("", "")


def test_an_answer_that_names_a_cause_is_the_operators_word() -> None:
    ctx = _ctx("application.guest_console", answer="firewall")
    ctx.ask_node(where=HOST, dev="", ip="198.18.0.11")
    (finding,) = ctx.findings
    assert finding.cause == "firewall.guest_blocks" and finding.severity == FAIL
    (said,) = [e for e in finding.evidence if e.vantage == OPERATOR]
    assert said.probe == "question" and said.text.startswith("operator: ")


def test_saw_names_the_probe_only_when_this_step_saw_it() -> None:
    ctx = _ctx()
    ctx.record(Observation(probe="tcp.listen", vantage=str(HOST)))
    ctx.record(Observation(probe="link.list", vantage=str(HOST), status="skipped", reason="needs root"))
    assert ctx.saw("nothing listens", "tcp.listen", HOST) == Evidence("nothing listens", "tcp.listen", str(HOST))
    assert ctx.saw("down", "link.list", HOST) == Evidence("down")  # skipped: not seen
    assert ctx.saw("x", "tcp.listen", "netns:other") == Evidence("x")  # not at that vantage


def test_an_answer_about_a_guest_with_no_vantage_never_names_this_host() -> None:
    """Issue 10: with no --guest, "only lo" at the guest's console read "the guest (local) has
    no network interface" and "no route" read "local has no route": local is this host."""
    from vnetdoctor.knowledge.checks_application import guest_console

    for choice, cause in (("no_nic", "guest.no_nic"), ("no_route", "route.missing")):
        ctx = _ctx("application.guest_console", answer=choice)
        guest_console(ctx)
        (finding,) = [f for f in ctx.findings if f.cause == cause]
        assert "local" not in finding.summary and "the guest's console" in finding.summary, finding.summary


def test_the_guests_console_is_named_in_the_operators_language() -> None:
    """The fixes' place ("the guest's console") was an English f-string under --lang zh."""
    from vnetdoctor.knowledge.checks_application import guest_console

    ctx = _ctx("application.guest_console", answer="no_nic", lang="zh")
    guest_console(ctx)
    (finding,) = [f for f in ctx.findings if f.cause == "guest.no_nic"]
    assert "虚拟机的控制台" in finding.summary and "console" not in finding.summary, finding.summary
    assert all(fix.where == "虚拟机的控制台" for fix in finding.fixes)
