"""An unprivileged walk's verdict says what would help (issue 10 follow-up).

With the probes skipped for want of capabilities, "Inconclusive: check the skipped
steps" left the operator to read every note. The verdict now names the capabilities
whose lack was actually seen in the skip reasons, and how many steps they skipped, in
the console report (en and zh), ``diagnose --json`` (structured fields) and the TUI's
verdict pane (tests/tui/test_verdict_capability_hint.py).
"""

from __future__ import annotations

from vnetdoctor.console_report import render
from vnetdoctor.knowledge.model import FAIL, PASS, SKIP, Diagnosis, Finding, Request, StepResult
from vnetdoctor.knowledge.verdict_hint import capability_hint
from vnetdoctor.probes.base import OK, SKIPPED, Observation
from vnetdoctor.probes.vantage import LOCAL

REQ = Request(target="198.18.0.11", host=LOCAL)


def step(step_id: str, status: str, note: str = "", *reasons: str) -> StepResult:
    obs = tuple(Observation(f"probe{i}", "local", SKIPPED if r else OK, reason=r) for i, r in enumerate(reasons))
    return StepResult(step_id, "network", step_id, status, note, observations=obs)


UNPRIVILEGED = (
    step("symptom.ping", SKIP, "skipped: needs CAP_NET_RAW (icmp.echo on local)", "needs CAP_NET_RAW"),
    step("network.firewall", SKIP, "skipped: needs CAP_NET_ADMIN (firewall.rules on local)", "needs CAP_NET_ADMIN"),
    # A skip whose note is in Chinese still names the capability (the observation may be elsewhere).
    step("datalink.bridge_port", SKIP, "已跳过：需要 CAP_SYS_ADMIN 权限（探测：netns:h 上的 link.list）"),
    step("network.address", PASS, "host 198.18.0.1/24 on eth0", ""),
    step("transport.tcp", SKIP, "no --port given"),  # skipped, but no capability would run it
)


def diagnosis(steps: tuple[StepResult, ...], reachable: bool | None = None, causes: tuple[Finding, ...] = ()) -> Diagnosis:
    return Diagnosis(REQ, reachable, causes=causes, steps=steps)


def test_the_capabilities_and_steps_come_from_the_skips_seen() -> None:
    assert diagnosis(UNPRIVILEGED).capability_skips() == (("CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"), 3)
    assert diagnosis(UNPRIVILEGED[3:]).capability_skips() == ((), 0)


def test_the_hint_is_said_in_each_language() -> None:
    d = diagnosis(UNPRIVILEGED)
    assert capability_hint(d, "en") == ("Skipped for lack of CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN: 3 of 5 steps. "
                                        "Run as root (or with those capabilities) to check them.")
    assert capability_hint(d, "zh") == ("因缺少 CAP_NET_ADMIN、CAP_NET_RAW、CAP_SYS_ADMIN 权限而跳过：5 步中的 3 步。"
                                        "请以 root 身份运行（或授予这些权限）以检查它们。")


def test_no_hint_without_a_capability_skip_or_once_a_cause_is_named() -> None:
    assert capability_hint(diagnosis(UNPRIVILEGED[3:]), "en") == ""
    cause = Finding("firewall.host_blocks", "network", "a DROP rule", severity=FAIL)
    assert capability_hint(diagnosis(UNPRIVILEGED, reachable=False, causes=(cause,)), "en") == ""


def test_the_console_report_ends_with_the_hint() -> None:
    for lang, start in (("en", "Skipped for lack of CAP_NET_ADMIN"), ("zh", "因缺少 CAP_NET_ADMIN")):
        out = render(diagnosis(UNPRIVILEGED), None, lang, width=0, ascii=False)
        assert out.splitlines()[-1].startswith(start), out
    out = render(diagnosis(UNPRIVILEGED[3:]), None, "en", width=0, ascii=False)
    assert "Skipped for lack" not in out


def test_the_console_hint_is_folded_to_the_terminal() -> None:
    out = render(diagnosis(UNPRIVILEGED), None, "en", width=80, ascii=False)
    tail = out[out.index("Skipped for lack"):].splitlines()
    assert len(tail) > 1 and all(len(line) <= 80 for line in tail), tail


def test_diagnose_json_carries_the_capabilities_as_fields() -> None:
    doc = diagnosis(UNPRIVILEGED).to_json(None)
    assert doc["missing_capabilities"] == ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"]
    assert doc["skipped_for_capabilities"] == 3
    doc = diagnosis(UNPRIVILEGED[3:]).to_json(None)
    assert (doc["missing_capabilities"], doc["skipped_for_capabilities"]) == ([], 0)
