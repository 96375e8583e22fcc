"""The lab's state files can be trusted: a writer that fails leaves no temporary file,
and one killed before its rename (``PREFIX.json.PID.tmp``) is swept by ``lab down``
of that prefix only once the writer is dead, never another lab's and never a live
writer's. Each test uses a state directory of its own (``tmp_path``), so no real lab's
files are read or touched, and prefixes no lab uses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vnetdoctor.lab import down, running_labs
from vnetdoctor.lab import state as lab_state

PREFIX = f"vnd-u{os.getpid()}-"


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setattr(lab_state, "STATE_DIR", str(directory))
    return directory


def dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    assert lab_state.proc_start_time(child.pid) is None
    return child.pid


def leftover(directory: Path, prefix: str, pid: int) -> Path:
    """What ``save`` leaves when killed between opening its file and renaming it: an empty file."""
    directory.mkdir(exist_ok=True)
    path = directory / f"{prefix}.json.{pid}.tmp"
    path.write_bytes(b"")
    return path


def test_a_failed_save_leaves_the_old_state_and_no_temporary_file(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab_state.save(lab_state.LabState(prefix=PREFIX, scenario="healthy"))

    def broken(self: lab_state.LabState) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(lab_state.LabState, "to_json", broken)
    with pytest.raises(OSError, match="disk full"):
        lab_state.save(lab_state.LabState(prefix=PREFIX, scenario="ip.duplicate"))
    assert sorted(p.name for p in state_dir.iterdir()) == [f"{PREFIX}.json"]
    record = lab_state.load(PREFIX)
    assert record is not None and record.scenario == "healthy"


def test_sweep_removes_only_dead_writers_of_its_own_prefix(state_dir: Path) -> None:
    lab_state.save(lab_state.LabState(prefix=PREFIX, scenario="healthy"))
    dead = dead_pid()
    writer = subprocess.Popen(["sleep", "60"])  # a writer still about to rename its file
    try:
        mine = leftover(state_dir, PREFIX, dead)
        live = leftover(state_dir, PREFIX, writer.pid)
        other = leftover(state_dir, PREFIX + "x", dead)  # another lab whose name starts with ours
        dotted = leftover(state_dir, f"{PREFIX}.json.{dead}", dead)  # a prefix that looks like our file

        assert lab_state.sweep_leftovers(PREFIX) == [str(mine)]
        assert not mine.exists()
        assert live.exists() and other.exists() and dotted.exists()
        assert os.path.exists(lab_state.state_path(PREFIX))
        assert lab_state.sweep_leftovers(PREFIX) == []
    finally:
        writer.kill()
        writer.wait()
    assert lab_state.sweep_leftovers(PREFIX) == [str(live)]  # its writer is gone now


def test_down_sweeps_a_killed_writers_leftover_and_says_so(state_dir: Path) -> None:
    # `lab up` killed before its first state file: only the empty temporary file exists.
    path = leftover(state_dir, PREFIX, dead_pid())
    assert running_labs() == []  # a leftover is no lab
    assert down(PREFIX) == [f"removed {path}"]
    assert not path.exists()
    assert not state_dir.exists()  # the directory went with its last file, as after any down
