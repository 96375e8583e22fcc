"""Applying a fix: its argv, run without a shell, where the fix says, or not at all.

The one door every caller uses (the walk screen's worker, the tests): a fix is run
only when it is runnable, and only in a place this host can reach. A namespace fix
already carries ``ip netns exec NAME`` and runs from here; a libvirt guest's fix runs
inside the guest through its agent (``guest-exec`` with a path and arguments); a fix
for a machine the tool cannot enter (another station, a guest's console) is refused.
"""

from __future__ import annotations

from vnetdoctor.probes.nsexec import CommandResult, run_command
from vnetdoctor.probes.vantage import LOCAL, Vantage, VantageError, parse_vantage

from .model import Fix


class FixRefused(ValueError):
    """This fix must not be run by vnetdoctor; the message says why, in one line."""


def fix_target(fix: Fix) -> tuple[Vantage, tuple[str, ...]]:
    """Where ``fix`` runs and the exact argv, or :class:`FixRefused`."""
    if not fix.runnable or not fix.argv:
        raise FixRefused("guidance, not a command: " + (", ".join(fix.missing) or "no argv"))
    try:
        where = parse_vantage(fix.where or "local")
    except VantageError:
        raise FixRefused(f"{fix.where} is not a place vnetdoctor can run anything") from None
    if where.kind == "libvirt":
        return where, fix.argv
    if where.kind == "netns" and fix.argv[:4] != ("ip", "netns", "exec", where.name):
        # What runs must be what is shown, and it must run where it says.
        raise FixRefused(f"a fix for {where} must start with ip netns exec {where.name}")
    return LOCAL, fix.argv


def apply_fix(fix: Fix, timeout: float) -> CommandResult:
    """Run ``fix`` (see :func:`fix_target`) and then each of its further steps, in order;
    never through a shell. The first step that fails stops it: its result is returned."""
    for step in fix.then:
        fix_target(step)  # every step must be runnable where it says before any runs
    where, argv = fix_target(fix)
    result = run_command(where, argv, timeout=timeout)
    for step in fix.then:
        if not result.ok:
            break
        step_where, step_argv = fix_target(step)
        result = run_command(step_where, step_argv, timeout=timeout)
    return result


def undo_of(fix: Fix) -> Fix:
    """The fix that takes ``fix`` back: each step's undo argv, last step first, where that step ran.

    Undoing is applying this fix through :func:`apply_fix` (no shell, same checks). It has
    no undo of its own: the original command named what it changed as it was then (``nft
    delete rule … handle 7``), and the undo put it back as something new (the rule re-added
    under another handle), so running the original again would aim at what is no longer
    there, or at something else. To make the change again, the step is re-run and its fix,
    built from what is observed now, is applied. A step recorded without an undo has
    nothing to run back; a fix none of whose steps has one is refused.
    """
    steps = [s for s in (fix, *fix.then) if s.runnable and s.undo_argv]
    if not fix.runnable or not steps:
        raise FixRefused("no undo recorded for this fix")
    back = [Fix.of(s.undo_argv, risk=s.risk or fix.risk or "medium", where=s.where or fix.where) for s in reversed(steps)]
    return Fix.sequence(back)


__all__ = ["FixRefused", "apply_fix", "fix_target", "undo_of"]
