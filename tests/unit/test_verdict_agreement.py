"""One diagnosis, one verdict, everywhere: console, report, JSON, store, TUI, exit status.

The verdict used to be decided in six places, each with its own idea of what a
warning-only or an unreachable-without-cause run means. Now ``Diagnosis.verdict``
decides and every surface shows it; these tests feed the same diagnoses to all of
them and check that each says what that one verdict means.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vnetdoctor.commands.diagnose import exit_status
from vnetdoctor.console_report import render
from vnetdoctor.knowledge.model import Diagnosis, Finding, Request
from vnetdoctor.probes.vantage import parse_vantage
from vnetdoctor.probes.vocabulary import Severity, Verdict
from vnetdoctor.report import label, verdict_lines
from vnetdoctor.sessiondiff import diff_sessions
from vnetdoctor.store import SessionStore
from vnetdoctor.tui.widgets.verdict import verdict_status

REQUEST = Request(target="198.18.0.11", host=parse_vantage("netns:vndt-host"))
FIREWALL = Finding("guest-firewall-drops-icmp", "network", "the guest's firewall drops ping")
MTU = Finding("mtu-mismatch", "datalink", "MTUs differ", severity=Severity.WARN)

# (reachable, causes) → the verdict, and what each surface must say for it.
CASES = {
    "healthy": (True, (), Verdict.HEALTHY),
    "cause": (False, (FIREWALL,), Verdict.CAUSE),
    "cause and a warning": (False, (MTU, FIREWALL), Verdict.CAUSE),
    "only a warning": (True, (MTU,), Verdict.WARNINGS),
    "inconclusive": (False, (), Verdict.INCONCLUSIVE),
    "reachability unknown": (None, (), Verdict.INCONCLUSIVE),
}
EXIT = {Verdict.HEALTHY: 0, Verdict.CAUSE: 1, Verdict.WARNINGS: 1, Verdict.INCONCLUSIVE: 3}
TUI_MARK = {Verdict.HEALTHY: "pass", Verdict.CAUSE: "fail", Verdict.WARNINGS: "warn", Verdict.INCONCLUSIVE: "warn"}


def _console_line(d: Diagnosis) -> str:
    if d.verdict in (Verdict.CAUSE, Verdict.WARNINGS):
        return "1 cause named" if len(d.causes) == 1 else f"{len(d.causes)} causes named"
    if d.verdict is Verdict.HEALTHY:
        return "reachable both ways, no cause found"
    return "the end-to-end check could not run" if d.reachable is None else "unreachable, and no cause identified"


def _report_line(d: Diagnosis) -> str:
    if d.verdict in (Verdict.CAUSE, Verdict.WARNINGS):
        return label("v_reach_causes" if d.reachable else "v_causes", "en", n=len(d.causes))
    if d.verdict is Verdict.HEALTHY:
        return label("v_reachable", "en")
    return label("v_unknown" if d.reachable is None else "v_inconclusive", "en")


def _result(d: Diagnosis) -> str:
    if d.verdict in (Verdict.CAUSE, Verdict.WARNINGS):
        return ", ".join(f.cause for f in d.causes)
    if d.verdict is Verdict.HEALTHY:
        return "reachable"
    return "inconclusive" if d.reachable is None else "unreachable, no cause found"


@pytest.mark.parametrize("case", list(CASES))
def test_every_surface_shows_the_one_verdict(case: str, tmp_path: Path) -> None:
    reachable, causes, expected = CASES[case]
    d = Diagnosis(REQUEST, reachable, causes, duration_ms=1200.0, target="198.18.0.11")
    assert d.verdict is expected

    assert exit_status(d) == EXIT[expected]
    assert verdict_status(d) == TUI_MARK[expected]
    doc = json.loads(json.dumps(d.to_json("s1")))
    assert doc["verdict"] == expected and doc["reachable"] == reachable  # a field added, none renamed
    assert render(d, None, "en").splitlines()[-1].startswith(_console_line(d))

    store = SessionStore(tmp_path / "sessions.db")
    sid = store.start_session(REQUEST, source="cli")
    store.finish_session(sid, d)
    (summary,) = store.sessions()
    assert summary.verdict is expected
    assert summary.to_dict()["verdict"] == expected and summary.result == _result(d)
    recorded = store.load(sid)
    assert recorded.verdict is expected and recorded.to_json()["verdict"] == expected
    assert verdict_lines(recorded, "en") == [_report_line(d)]
    assert recorded.as_diagnosis() is not None and recorded.as_diagnosis().verdict is expected


def test_an_unfinished_session_has_no_verdict_yet(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    sid = store.start_session(REQUEST, source="cli")
    (summary,) = store.sessions()
    assert summary.verdict is Verdict.NOT_RUN
    recorded = store.load(sid)
    assert recorded.verdict is Verdict.NOT_RUN and recorded.to_json()["verdict"] == "not_run"
    assert verdict_lines(recorded, "en")[0] == label("v_interrupted", "en", n=0)


def test_a_record_made_before_the_verdict_field_gets_the_same_verdict(tmp_path: Path) -> None:
    """Old stores hold documents without ``verdict``: it is decided from what they do hold."""
    store = SessionStore(tmp_path / "sessions.db")
    sid = store.start_session(REQUEST, source="cli")
    store.finish_session(sid, Diagnosis(REQUEST, True, (MTU,)))
    with store._lock:
        row = store._conn.execute("SELECT diagnosis FROM sessions WHERE id=?", (sid,)).fetchone()
        doc = json.loads(row[0])
        del doc["verdict"]
        store._conn.execute("UPDATE sessions SET diagnosis=? WHERE id=?", (json.dumps(doc), sid))
        store._conn.commit()
    assert store.sessions()[0].verdict is Verdict.WARNINGS
    assert store.load(sid).to_json()["verdict"] == "warnings"


def test_diff_compares_the_verdicts_of_both_sessions(tmp_path: Path) -> None:
    """Before and after a fix: the diff carries each side's verdict, and a changed verdict is a change."""
    store = SessionStore(tmp_path / "sessions.db")
    before, after = (store.start_session(REQUEST, source="cli") for _ in range(2))
    store.finish_session(before, Diagnosis(REQUEST, True, (FIREWALL,)))
    store.finish_session(after, Diagnosis(REQUEST, True, (MTU,)))
    a, b = store.load(before), store.load(after)
    d = diff_sessions(a, b)
    assert d.verdict == (Verdict.CAUSE, Verdict.WARNINGS)
    assert json.loads(json.dumps(d.to_dict()))["verdict"] == ["cause", "warnings"]
    assert diff_sessions(a, a).verdict == (Verdict.CAUSE, Verdict.CAUSE) and diff_sessions(a, a).empty
    assert not diff_sessions(a, b).empty
