"""What a running lab owns, written down so that any process can take it down again.

``lab up`` and ``lab down`` are separate processes (and a crashed test leaves a
lab behind), so a lab's namespaces, ``/etc/netns`` directories and server
processes are recorded in ``/run/vnetdoctor-lab/PREFIX.json`` before they are
created. A process is recorded with its start time (``/proc/PID/stat`` field 22)
and is only ever signalled while that still matches, so a recycled PID belonging
to someone else is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from vnetdoctor.knowledge.text import tr

STATE_DIR = os.environ.get("VNETDOCTOR_LAB_STATE_DIR", "/run/vnetdoctor-lab")
ETC_NETNS = "/etc/netns"
SCHEMA = "vnetdoctor.lab/1"

# Prefixes become parts of namespace names and file names: keep them boring.
PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

# Popen objects of servers this process started, so that stopping one also reaps it.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class ProcessRecord:
    name: str  # "tcp", "dns", "announce"
    pid: int
    start: int  # /proc/PID/stat starttime (clock ticks since boot)
    netns: str


@dataclass
class LabState:
    prefix: str
    scenario: str
    namespaces: list[str] = field(default_factory=list)
    etc_netns: list[str] = field(default_factory=list)
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    injected: bool = False
    created: float = field(default_factory=time.time)
    schema: str = SCHEMA

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        procs = {k: ProcessRecord(**v) for k, v in dict(data.get("processes", {})).items()}
        return cls(
            prefix=data["prefix"],
            scenario=data.get("scenario", ""),
            namespaces=list(data.get("namespaces", [])),
            etc_netns=list(data.get("etc_netns", [])),
            processes=procs,
            injected=bool(data.get("injected", False)),
            created=float(data.get("created", 0.0)),
            schema=data.get("schema", SCHEMA),
        )


def check_prefix(prefix: str) -> str:
    from .ops import LabError

    if not PREFIX_RE.match(prefix or ""):
        raise LabError(tr("labcli.bad_prefix", prefix=repr(prefix)))
    return prefix


def state_path(prefix: str) -> str:
    return os.path.join(STATE_DIR, f"{check_prefix(prefix)}.json")


def load(prefix: str) -> LabState | None:
    try:
        with open(state_path(prefix), encoding="utf-8") as fh:
            return LabState.from_json(fh.read())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: down falls back to names and process markers


def save(state: LabState) -> None:
    """Write the state whole or not at all: a temporary file renamed over the old one.

    A writer that fails removes its temporary file; one killed before the rename
    leaves ``PREFIX.json.PID.tmp`` behind, which :func:`sweep_leftovers` removes.
    """
    _makedirs(STATE_DIR)
    path = state_path(state.prefix)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(state.to_json())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def sweep_leftovers(prefix: str) -> list[str]:
    """Remove this prefix's temporary state files whose writer is dead; their paths.

    Only ``PREFIX.json.PID.tmp`` of exactly this prefix (never another lab's) and
    only when no process PID is alive: a live writer is still about to rename its
    file (and a PID reused since merely keeps the leftover until the next sweep).
    """
    stem = os.path.basename(state_path(prefix)) + "."
    try:
        names = os.listdir(STATE_DIR)
    except FileNotFoundError:
        return []
    removed = []
    for name in sorted(names):
        pid = name[len(stem):-len(".tmp")] if name.startswith(stem) and name.endswith(".tmp") else ""
        if not re.fullmatch(r"[0-9]{1,10}", pid) or proc_start_time(int(pid)) is not None:
            continue
        path = os.path.join(STATE_DIR, name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            removed.append(path)
    if removed:
        _rmdir_if_empty(STATE_DIR)
    return removed


def remove(prefix: str) -> bool:
    try:
        os.unlink(state_path(prefix))
    except FileNotFoundError:
        return False
    _rmdir_if_empty(STATE_DIR)
    return True


def _makedirs(path: str) -> None:
    # Another lab's down may remove an empty parent between makedirs' steps: retry.
    for _ in range(5):
        try:
            os.makedirs(path, exist_ok=True)
            return
        except FileNotFoundError:
            continue
    os.makedirs(path, exist_ok=True)


def _rmdir_if_empty(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def write_etc_netns(netns: str, files: dict[str, str]) -> str:
    """Files ``ip netns exec NETNS`` bind-mounts over /etc (resolv.conf, hosts)."""
    directory = os.path.join(ETC_NETNS, netns)
    _makedirs(directory)
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    return directory


def remove_etc_netns(netns: str) -> bool:
    import shutil

    directory = os.path.join(ETC_NETNS, netns)
    if not os.path.isdir(directory):
        return False
    shutil.rmtree(directory, ignore_errors=True)
    # /etc/netns itself stays, like /run/netns: it may have existed before the lab
    return not os.path.exists(directory)


# --- processes ----------------------------------------------------------------------------

def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat, or None when there is no such (live) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = text[text.rfind(")") + 2 :].split()
    if not fields or fields[0] == "Z":
        return None  # a zombie has already released everything it held
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def register_child(popen: subprocess.Popen[bytes]) -> None:
    _CHILDREN[popen.pid] = popen


def is_running(record: ProcessRecord) -> bool:
    return proc_start_time(record.pid) == record.start


def stop_process(record: ProcessRecord, timeout: float = 2.0) -> bool:
    """SIGTERM (then SIGKILL) exactly this process; True when it is gone."""
    if not is_running(record):
        _reap(record.pid)
        return True
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        _reap(record.pid)
        return True
    if _wait_gone(record, timeout):
        return True
    if is_running(record):
        try:
            os.kill(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return _wait_gone(record, timeout)


def _wait_gone(record: ProcessRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    popen = _CHILDREN.get(record.pid)
    while True:
        if popen is not None:
            try:
                popen.wait(timeout=max(0.0, min(0.05, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                pass
            if popen.returncode is not None:
                _CHILDREN.pop(record.pid, None)
                return True
        elif not is_running(record):
            return True
        if time.monotonic() >= deadline:
            return not is_running(record)
        if popen is None:
            time.sleep(0.01)


def _reap(pid: int) -> None:
    popen = _CHILDREN.pop(pid, None)
    if popen is not None:
        try:
            popen.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def find_marked_processes(prefix: str, script: str) -> list[ProcessRecord]:
    """Servers of this lab found by their command line (``servers.py … --lab PREFIX``).

    Only processes running our own server script with exactly this prefix match,
    so ``lab down`` can clean up after a lost state file without guessing.
    """
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = [a.decode("utf-8", "replace") for a in fh.read().split(b"\0") if a]
        except OSError:
            continue
        if script not in argv:
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == "--lab" and argv[i + 1] == prefix:
                pid = int(entry)
                start = proc_start_time(pid)
                if start is not None:
                    kind = argv[argv.index(script) + 1] if argv.index(script) + 1 < len(argv) else "?"
                    found.append(ProcessRecord(kind, pid, start, ""))
                break
    return found
