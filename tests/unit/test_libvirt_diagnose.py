"""End to end: ``vnetdoctor diagnose --guest libvirt:NAME@test:///…`` names the platform causes.

The whole command in a subprocess, on the libvirt test driver's XML: no daemon,
no guest agent, no leases — the causes come from the domain and network XML.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI

pytest.importorskip("libvirt")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="diagnose needs root (CAP_NET_RAW)")


def diagnose(*args: str, tmp_path) -> tuple[int, dict | None, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "LC_ALL": "C", "LANG": "C", "NO_COLOR": "1"}
    env.pop("VNETDOCTOR_STRICT_TEMPLATES", None)  # the operator's forgiving rendering
    proc = subprocess.run(
        [sys.executable, "-m", "vnetdoctor", "diagnose", *args],
        check=False, capture_output=True, text=True, timeout=120, env=env,
    )
    doc = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None
    return proc.returncode, doc, proc.stderr


@pytest.mark.parametrize(
    ("domain", "cause", "summary"),
    [
        ("db", "libvirt.interface_link_down", "the link of testnet0 on domain db is set down"),
        ("stopped", "libvirt.domain_not_running", "domain stopped is shutoff"),
        ("frozen", "libvirt.domain_not_running", "domain frozen is paused"),
        ("orphan", "libvirt.network_inactive", "libvirt network gone is not active (autostart: undefined)"),
    ],
)
def test_diagnose_names_the_platform_cause_from_the_xml(domain, cause, summary, tmp_path):
    code, doc, err = diagnose("--guest", f"libvirt:{domain}@{LAB_URI}", "--json", "--no-record", tmp_path=tmp_path)
    assert doc is not None, err
    assert code == 1, err
    assert doc["guest"] == f"libvirt:{domain}@{LAB_URI}"
    assert doc["causes"][0]["id"] == cause
    assert doc["causes"][0]["summary"] == summary
    assert doc["causes"][0]["layer"] == "platform"
    step = next(s for s in doc["steps"] if s["id"] == "platform.libvirt")
    assert step["status"] == "fail" and cause in step["causes"]


def test_healthy_domain_has_no_platform_cause(tmp_path):
    _code, doc, err = diagnose("--guest", f"libvirt:web@{LAB_URI}", "--json", "--no-record", tmp_path=tmp_path)
    assert doc is not None, err
    step = next(s for s in doc["steps"] if s["id"] == "platform.libvirt")
    assert step["status"] == "pass"
    assert not [c for c in doc["causes"] if c["layer"] == "platform"]


def test_unknown_domain_is_one_line_and_exit_2(tmp_path):
    code, doc, err = diagnose("--guest", f"libvirt:nosuch@{LAB_URI}", "--json", "--no-record", tmp_path=tmp_path)
    assert code == 2 and doc is None
    assert err.strip().splitlines() == [f"vnetdoctor diagnose: --guest: no libvirt domain 'nosuch' on {LAB_URI}"]
