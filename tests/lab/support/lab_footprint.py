"""Helpers for the fault-lab tests: what a lab held, and proof that nothing of it is left."""

from __future__ import annotations

import os
from dataclasses import dataclass

from vnetdoctor.lab import LabInstance, lab_exists
from vnetdoctor.lab.checks import CheckResult
from vnetdoctor.lab.state import ProcessRecord, is_running


@dataclass(frozen=True)
class Footprint:
    """What a lab held while it was up: namespaces (with their inodes) and processes."""

    prefix: str
    namespaces: tuple[tuple[str, int], ...]
    processes: tuple[ProcessRecord, ...]

    @classmethod
    def of(cls, inst: LabInstance) -> Footprint:
        spaces = []
        for name in inst.namespaces:
            spaces.append((name, os.stat(f"/run/netns/{name}").st_ino))
        return cls(inst.prefix, tuple(spaces), tuple(inst.state.processes.values()))

    def leftovers(self) -> list[str]:
        """Anything of the lab that still exists: names, processes, or a namespace kept alive."""
        left = list(lab_exists(self.prefix))
        left += [f"process {p.name} pid {p.pid}" for p in self.processes if is_running(p)]
        inodes = {ino for _, ino in self.namespaces}
        # A namespace whose name is gone still lives (with its links) while a process is in it.
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                ino = os.stat(f"/proc/{entry}/ns/net").st_ino
            except OSError:
                continue
            if ino in inodes:
                left.append(f"pid {entry} still inside a deleted lab namespace")
        return left


def explain(results: list[CheckResult]) -> str:
    return "\n".join(
        f"{'ok ' if r.as_expected else 'BAD'} {r.describe()} [{' '.join(r.argv[4:])}] {r.output[-160:]!r}"
        for r in results
    )
