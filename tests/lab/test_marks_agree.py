"""A mark never contradicts its own text: what the walk says a step saw decides its mark.

Found by walking the lab: the ARP step was "✓ passed" with "nobody answers ARP
for 198.18.0.11", and bridge.port_blocking said "in STP state stp" while its
evidence said the port was listening.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.lab


def diagnose(inst) -> dict:  # type: ignore[no-untyped-def]
    argv = [sys.executable, "-m", "vnetdoctor", "diagnose", *inst.scenario.diagnose_args(inst.prefix),
            "--json", "--no-record"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode in (0, 1, 3), res.stderr
    return json.loads(res.stdout)


def test_port_blocking_names_the_state_the_evidence_shows(bring_up) -> None:  # type: ignore[no-untyped-def]
    doc = diagnose(bring_up("bridge.port_blocking"))
    cause = doc["causes"][0]
    assert cause["id"] == "bridge.port_blocking"
    evidence = " ".join(e["text"] for e in cause["evidence"])
    state = next(w for w in ("listening", "learning", "blocking", "disabled") if f"STP state {w}" in evidence)
    assert f"STP state {state}" in cause["summary"] and "state stp" not in cause["summary"]
    assert any(f["argv"][-2:] == ["stp_state", "0"] for f in cause["fixes"])  # the STP fix still chosen


def test_arp_without_an_answer_is_not_a_pass(bring_up) -> None:  # type: ignore[no-untyped-def]
    doc = diagnose(bring_up("bridge.port_blocking"))
    arp = next(s for s in doc["steps"] if s["id"] == "datalink.arp")
    assert "nobody answers" in arp["note"]
    assert arp["status"] == "fail"
