"""``lab up``/``lab down`` as the operator and the other tests rely on them: down removes
everything of its prefix and nothing else, a build that fails half-way leaves
nothing, a lab brought up by one process is taken down by another, and the command
line answers in one line with exit 2 where it cannot run."""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest
from tests.lab.support.lab_footprint import Footprint, explain

from vnetdoctor.lab import (
    SCENARIOS,
    TOPOLOGIES,
    LabError,
    LabInstance,
    Scenario,
    down,
    lab_exists,
    run_checks,
    up,
)
from vnetdoctor.lab import state as lab_state
from vnetdoctor.lab.lifecycle import SERVER_SCRIPT
from vnetdoctor.lab.topologies import BRIDGED
from vnetdoctor.lab.topology import HOST

pytestmark = pytest.mark.lab

VNETDOCTOR = [sys.executable, "-m", "vnetdoctor"]


def _cli(*args: str, prefix_argv: list[str] | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix_argv or []), *VNETDOCTOR, *args], check=False, capture_output=True, text=True, timeout=60,
        env={**os.environ, "VNETDOCTOR_DEBUG": "", **(env or {})},
    )


def test_down_removes_its_prefix_and_nothing_else(lab_prefix: str) -> None:
    # B's names all start with A's prefix: "vnd-t1x0-" vs "vnd-t1x0-x" -> "vnd-t1x0-xhost"
    other = lab_prefix + "x"
    a = up("ip.duplicate", lab_prefix)  # the richest footprint: rogue namespace + announcer
    a_print = Footprint.of(a)
    try:
        b = up("healthy", other)
        b_print = Footprint.of(b)
        assert {"tcp", "dns"} <= set(b.state.processes)
        removed = down(lab_prefix)
        assert removed, "down reported nothing"
        assert a_print.leftovers() == []
        assert b_print.leftovers() != []  # untouched: names, state file and processes are all there
        assert all(lab_state.is_running(p) for p in b_print.processes)
        assert sorted(lab_exists(other)) == sorted(
            [f"netns {n}" for n, _ in b_print.namespaces]
            + [f"{lab_state.ETC_NETNS}/{other}guest", lab_state.state_path(other)]
        )
        results = run_checks(b.checks())
        assert all(r.as_expected for r in results), explain(results)
    finally:
        down(other)
    assert b_print.leftovers() == []


def _broken_topology(inst: LabInstance) -> None:
    BRIDGED.build(inst)  # namespaces, links and both servers exist now ...
    inst.ip(HOST, "link set no-such-device up")  # ... and this fails


@pytest.mark.parametrize("where", ["topology", "fault"])
def test_a_failed_build_leaves_nothing(where: str, lab_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if where == "topology":
        monkeypatch.setitem(TOPOLOGIES, "t-broken", dataclasses.replace(BRIDGED, name="t-broken", build=_broken_topology))
        scenario = Scenario("t-broken", None, "t-broken", {"en": "x", "zh": "x"}, ())
    else:
        scenario = Scenario(
            "t-broken", "firewall.guest_blocks", "bridged", {"en": "x", "zh": "x"}, (),
            inject=lambda inst: inst.nft("guest", "this is not nftables\n"),
        )
    monkeypatch.setitem(SCENARIOS, "t-broken", scenario)
    with pytest.raises(LabError):
        up("t-broken", lab_prefix)
    assert lab_exists(lab_prefix) == []
    assert lab_state.find_marked_processes(lab_prefix, SERVER_SCRIPT) == []


def test_up_refuses_a_prefix_in_use(bring_up, lab_prefix: str) -> None:
    inst = bring_up("healthy")
    with pytest.raises(LabError, match="already up"):
        up("healthy", lab_prefix)
    assert inst.injected and lab_exists(lab_prefix)


def test_down_without_state_file_still_finds_everything(bring_up, lab_prefix: str) -> None:
    inst = bring_up("healthy-nat")
    footprint = Footprint.of(inst)
    os.unlink(lab_state.state_path(lab_prefix))
    marked = {p.pid for p in lab_state.find_marked_processes(lab_prefix, SERVER_SCRIPT)}
    assert marked == {p.pid for p in footprint.processes}
    down(lab_prefix)
    assert footprint.leftovers() == []


def test_cli_up_prints_the_diagnose_command_and_down_removes_all(lab_prefix: str) -> None:
    name = "firewall.guest_blocks"
    proc = _cli("lab", "up", name, "--prefix", lab_prefix)
    assert proc.returncode == 0, proc.stderr
    expected = "vnetdoctor diagnose " + shlex.join(SCENARIOS[name].diagnose_args(lab_prefix))
    assert expected in [line.strip() for line in proc.stdout.splitlines()], proc.stdout
    inst = LabInstance.attach(lab_prefix)  # brought up by another process
    footprint = Footprint.of(inst)
    results = run_checks(inst.checks())
    assert all(r.as_expected for r in results), explain(results)
    proc = _cli("lab", "down", "--prefix", lab_prefix)
    assert proc.returncode == 0, proc.stderr
    assert f"deleted netns {lab_prefix}guest" in proc.stdout
    assert footprint.leftovers() == []  # the servers were not our children: they are gone anyway
    proc = _cli("lab", "down", "--prefix", lab_prefix)
    assert proc.returncode == 0 and "nothing" in proc.stdout


def test_cli_down_sweeps_what_a_killed_lab_up_left(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`lab up` killed between opening its state file and writing it leaves an empty
    PREFIX.json.PID.tmp: `lab down` of that prefix removes it once its writer is dead,
    and leaves another prefix's and a live writer's alone (in a state directory of the
    test's own)."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    env = {"VNETDOCTOR_LAB_STATE_DIR": str(state_dir)}
    killed = subprocess.Popen(["true"])
    killed.wait()
    writer = subprocess.Popen(["sleep", "60"])
    try:
        mine, other, live = (state_dir / f"{p}.json.{pid}.tmp" for p, pid in (
            (lab_prefix, killed.pid), (lab_prefix + "x", killed.pid), (lab_prefix, writer.pid)))
        for path in (mine, other, live):
            path.write_bytes(b"")
        listed = _cli("lab", "list", env=env)
        assert listed.returncode == 0 and mine.name not in listed.stdout
        proc = _cli("lab", "down", "--prefix", lab_prefix, env=env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [f"removed {mine}"]
        assert not mine.exists() and other.exists() and live.exists()
    finally:
        writer.kill()
        writer.wait()


def test_cli_refuses_scenarios_this_kernel_cannot_run(lab_prefix: str) -> None:
    blocked = {n: s.available() for n, s in SCENARIOS.items() if s.available()}
    if not blocked:
        pytest.skip("this kernel runs every scenario")
    name, reason = next(iter(blocked.items()))
    proc = _cli("lab", "up", name, "--prefix", lab_prefix)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and reason in proc.stderr
    assert lab_exists(lab_prefix) == []


@pytest.mark.parametrize("action", [["up", "healthy"], ["down"]])
def test_cli_without_privileges_is_one_line_exit_2(action: list[str], lab_prefix: str) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv (util-linux) to drop privileges")
    drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    proc = _cli("lab", *action, "--prefix", lab_prefix, prefix_argv=drop)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1 and "needs root" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert lab_exists(lab_prefix) == []


def test_servers_leave_when_their_namespace_is_deleted_by_hand(bring_up, lab_prefix: str) -> None:
    """A server would keep a deleted namespace (and its links) alive: it must exit instead."""
    inst = bring_up("healthy")
    footprint = Footprint.of(inst)
    for name in inst.namespaces:
        subprocess.run(["ip", "netns", "del", name], check=True)
    deadline = time.monotonic() + 5.0
    while any(lab_state.is_running(p) for p in footprint.processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(lab_state.is_running(p) for p in footprint.processes)
    down(lab_prefix)
    assert footprint.leftovers() == []
