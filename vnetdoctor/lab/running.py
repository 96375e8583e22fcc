"""The lab instances running on this host, read from their state files.

This is the lab's one door for readers outside the lab (the Start screen's target
discovery): they get :class:`RunningLab` values and never open the state
directory or the scenario catalogue themselves, so the state file's format stays
the lab's own business and an import contract can forbid the TUI every
``vnetdoctor.lab.*`` module but the package itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import state
from .scenarios import SCENARIOS, Scenario


@dataclass(frozen=True)
class RunningLab:
    """One lab brought up by some process: its prefix, what it runs, what it owns."""

    prefix: str
    scenario_name: str
    namespaces: tuple[str, ...]
    scenario: Scenario | None  # None: a scenario this version does not know (still owned)


def running_labs() -> list[RunningLab]:
    """Every lab with a readable state file, by prefix; none when the directory is absent.

    Raises :class:`OSError` when the state directory exists but cannot be listed:
    the caller says so rather than showing an empty list as if nothing ran.
    """
    try:
        names = sorted(n[:-5] for n in os.listdir(state.STATE_DIR) if n.endswith(".json"))
    except FileNotFoundError:
        return []
    out: list[RunningLab] = []
    for prefix in names:
        try:
            record = state.load(prefix)
        except Exception:  # noqa: BLE001 - a bad prefix in a stray file is not ours to judge
            record = None
        if record is None:
            continue
        out.append(RunningLab(prefix, record.scenario, tuple(record.namespaces),
                              SCENARIOS.get(record.scenario)))
    return out


__all__ = ["RunningLab", "running_labs"]
