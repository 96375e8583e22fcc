"""``vnetdoctor diagnose`` as scripts use it: the JSON contract, exit statuses, the report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from vnetdoctor import lab
from tests.lab.support.variants import Variant, ns_sh

pytestmark = pytest.mark.lab


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vnetdoctor", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_json_contract_and_recording(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "s.db"
    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        proc = run_cli("diagnose", *inst.diagnose_args(), "--json", "--db", str(db))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)  # stdout holds one JSON document and nothing else
    assert doc["schema"] == "vnetdoctor.diagnosis/1"
    assert doc["session_id"]
    assert doc["target"] == "198.18.0.11"
    assert doc["host"] == f"netns:{lab_prefix}host" and doc["guest"] == f"netns:{lab_prefix}guest"
    assert doc["reachable"] is False
    cause = doc["causes"][0]
    # On a miss, the whole document: which step named what, from which observations.
    assert cause["id"] == "firewall.guest_blocks" and cause["layer"] == "network", proc.stdout
    assert cause["summary"] and cause["evidence"]
    # Each evidence line names what saw it and where: the rule from the guest's firewall
    # listing, the packets' path from the capture.
    sources = [(e["probe"], e["vantage"]) for e in cause["evidence"]]
    assert sources[0] == ("firewall.rules", f"netns:{lab_prefix}guest")
    assert ("capture.path", f"netns:{lab_prefix}host") in sources
    fix = cause["fixes"][0]
    # Added fields are allowed (cli.md): note_say holds the facts the note was said from
    # (knowledge/phrase.py), so the record can say it in the other language.
    assert set(fix) == {"command", "argv", "undo", "undo_argv", "where", "risk", "runnable", "missing", "note",
                        "note_say"}
    assert fix["note_say"]["fix_note"] == "firewall.guest_blocks"
    guest = f"{lab_prefix}guest"
    # argv is what runs (without a shell); command is its shell-quoted display.
    assert fix["argv"][:4] == ["ip", "netns", "exec", guest] and fix["argv"][4:7] == ["nft", "delete", "rule"]
    assert shlex.split(fix["command"]) == fix["argv"] and shlex.split(fix["undo"]) == fix["undo_argv"]
    assert fix["undo_argv"][:7] == ["ip", "netns", "exec", guest, "nft", "add", "rule"]
    assert fix["where"] == f"netns:{guest}" and fix["risk"] in ("low", "medium", "high")
    assert fix["runnable"] is True and fix["missing"] == []
    for step in doc["steps"]:
        assert step["status"] in ("pass", "fail", "warn", "skip")
        assert isinstance(step["duration_ms"], int) and step["id"] and step["layer"]
    assert isinstance(doc["duration_ms"], int)
    listed = run_cli("sessions", "--db", str(db), "--json")
    assert listed.returncode == 0 and doc["session_id"] in listed.stdout


def test_healthy_exit_0_and_no_record(lab_prefix: str) -> None:
    with lab.up("healthy", lab_prefix) as inst:
        proc = run_cli("diagnose", *inst.diagnose_args(), "--json", "--no-record")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["session_id"] is None and doc["reachable"] is True and doc["causes"] == []


def test_inconclusive_exit_3() -> None:
    """The peer beyond the host silently drops pings: nothing on our side explains it."""
    v = Variant(f"vnd-i{os.getpid() % 100000}-", outside="routed")
    v.destroy()
    try:
        v.build()
        ns_sh(v.out, "nft", "add table inet q; add chain inet q i { type filter hook input priority 0; }; "
              "add rule inet q i icmp type echo-request drop")
        proc = run_cli("diagnose", "--host", f"netns:{v.hv}", "--target", v.peer_ip, "--json", "--no-record")
        assert proc.returncode == 3, proc.stdout + proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["reachable"] is False and doc["causes"] == []
    finally:
        v.destroy()


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
def test_human_report_without_colour(lab_prefix: str) -> None:
    with lab.up("sysctl.icmp_echo_ignored", lab_prefix) as inst:
        proc = run_cli("diagnose", *inst.diagnose_args(), "--no-record", "--lang", "en", env={"NO_COLOR": "1"})
        zh = run_cli("diagnose", *inst.diagnose_args(), "--no-record", "--lang", "zh")
    assert proc.returncode == 1
    assert "\033[" not in proc.stdout
    assert "Root cause: sysctl.icmp_echo_ignored" in proc.stdout
    assert "✗" in proc.stdout and "✓" in proc.stdout
    assert "sysctl -w net.ipv4.icmp_echo_ignore_all=0" in proc.stdout
    assert "根本原因" in zh.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target", "300.1.1.1"], "--target: '300.1.1.1' is not an IP address"),
        (["--target", "198.18.0.1", "--host", "netns:vnd-no-such-ns"], "unknown network namespace"),
        (["--target", "198.18.0.1", "--guest", "bogus"], "bad vantage"),
        (["--target", "198.18.0.1", "--from", "guest"], "--from guest needs --guest"),
        (["--target", "198.18.0.1", "--port", "70000"], "port 70000"),
        ([], "give --target"),
        (["--target", "198.18.0.1", "--host", "libvirt:vm1"], "--host must be local or netns"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    proc = run_cli("diagnose", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
