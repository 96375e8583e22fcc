"""A healthy verdict lists what was verified, from the diagnosis's own observations only."""

from __future__ import annotations

from vnetdoctor.knowledge.model import FAIL, PASS, SKIP, Diagnosis, Request, StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.base import OK, Observation
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vantage import parse_vantage
from vnetdoctor.tui.i18n import Translator
from vnetdoctor.tui.widgets.verified import verified_lines

HOST, GUEST = "netns:vnd-host", "netns:vnd-guest"


def _echo(vantage: str, dst: str, rtts: list[float | None], probe: str = "icmp.echo", size: int = 56,
          df: bool = False) -> Observation:
    rows = tuple(EchoRow(dst, i, 7, size, df, rtt) for i, rtt in enumerate(rtts, 1))
    return Observation(probe, vantage, OK, rows=rows, params=(("dst", dst),))


def _diagnosis(*steps: StepResult, path: tuple[PathPoint, ...] = ()) -> Diagnosis:
    request = Request(target="198.18.0.11", host=parse_vantage(HOST), guest=parse_vantage(GUEST))
    return Diagnosis(request, True, steps=steps, extra={"path": path} if path else {})


def test_rtt_both_ways_largest_df_path_and_passed_checks() -> None:
    ping = StepResult("symptom.ping", "symptom", "Ping both ways", PASS, observations=(
        _echo(HOST, "198.18.0.11", [0.05, 0.07, 0.06]), _echo(GUEST, "198.18.0.1", [0.04, None, 0.05])))
    mtu = StepResult("datalink.mtu", "datalink", "MTU along the path", PASS, observations=(
        Observation("icmp.pmtu", HOST, OK, rows=(
            EchoRow("198.18.0.11", 1, 7, 1472, True, 0.1), EchoRow("198.18.0.11", 2, 7, 8972, True, None))),))
    skipped = StepResult("tcp.port", "transport", "TCP port", SKIP)
    lines = verified_lines(_diagnosis(ping, mtu, skipped, path=(PathPoint("host", "br0"), PathPoint("host", "vnet0"), PathPoint("guest", "eth0"))),
                           Translator("en"))
    assert lines == [
        f"ping {HOST} → 198.18.0.11: 3/3 answered, RTT 0.05–0.07 ms",
        f"ping {GUEST} → 198.18.0.1: 2/3 answered, RTT 0.04–0.05 ms",
        "largest packet with DF that passed: 1500 bytes",
        "path: host br0 → host vnet0 → guest eth0",
        "checks passed (2): Ping both ways; MTU along the path",
    ]


def test_nothing_measured_nothing_claimed() -> None:
    failed = StepResult("symptom.ping", "symptom", "Ping both ways", FAIL, observations=(
        _echo(HOST, "198.18.0.11", [None, None]),))
    assert verified_lines(_diagnosis(failed), Translator("en")) == []


def test_passed_checks_are_named_in_the_operators_language() -> None:
    """A replay in Chinese of an English recording names the checks in Chinese."""
    ping = StepResult("symptom.ping", "symptom", "Ping both ways", PASS)
    lines = verified_lines(_diagnosis(ping), Translator("zh"), {"symptom.ping": "双向 ping"}.get)
    assert lines == ["通过的检查（1 项）：双向 ping"]


def test_a_record_with_a_rerun_speaks_of_the_latest_ping() -> None:
    """Replay of a fixed session: the failed first run's ping must not hide the re-run's RTTs."""
    before = StepResult("symptom.ping", "symptom", "Ping both ways", FAIL, observations=(
        _echo(HOST, "198.18.0.11", [None, None, None]),))
    after = StepResult("symptom.ping", "symptom", "Ping both ways", PASS, observations=(
        _echo(HOST, "198.18.0.11", [0.05, 0.09, 0.07]),))
    lines = verified_lines(_diagnosis(before, after), Translator("en"))
    assert lines[0] == f"ping {HOST} → 198.18.0.11: 3/3 answered, RTT 0.05–0.09 ms"
    assert lines[-1] == "checks passed (1): Ping both ways"  # the step ran twice, it is counted once
