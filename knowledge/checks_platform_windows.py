"""A Windows guest's firewall: which profile or rule keeps inbound ICMPv4 echo out.

Windows Firewall is no chain of counted rules: an enabled profile blocks inbound
traffic by default unless an enabled Allow rule matches, and a matching Block rule
wins over any Allow rule. The rows come from ``Get-NetFirewallProfile`` and
``Get-NetFirewallRule`` with their ICMP filters (:mod:`vnetdoctor.probes.guest_windows`);
``firewall.guest_blocks`` then names the rule or the profiles, and offers the
Windows fixes of the catalogue (``when = "os=windows…"``), run in the guest through
its agent as argv for ``powershell.exe``.
"""

from __future__ import annotations

from typing import Any

from vnetdoctor.probes.guest_agent import is_windows
from vnetdoctor.probes.guest_windows import allows_echo, rule_name

from .context import StepContext
from .facts import snapshots


def windows_guest(ctx: StepContext) -> bool:
    guest = ctx.guest
    return guest is not None and guest.kind == "libvirt" and is_windows(guest)


def windows_guest_blocks(ctx: StepContext) -> bool:
    """Name ``firewall.guest_blocks`` for a Windows guest that refuses ICMPv4 echo; True when named."""
    _before, rules = snapshots(ctx, "guest")
    rows = [r for r in rules if r.backend == "windows"]
    if not rows:
        return False
    echo_rules = [r for r in rows if r.rule and allows_echo(r)]
    blocking = [r for r in echo_rules if r.verdict == "drop"]
    if blocking:
        rule = blocking[0]
        name = rule_name(rule)
        ctx.found("firewall.guest_blocks", where=ctx.guest,
                  evidence=[ctx.t("network.windows_block_rule", rule=name, profile=rule.table)],
                  family="windows", table=rule.table, chain="inbound", rule=name, when_os="windows-block",
                  value=name, subnet="")
        return True
    allowed = [r for r in echo_rules if r.verdict == "accept"]
    closed = [p for p in rows if not p.rule and p.policy == "drop" and not _allowed_in(allowed, p.table)]
    if not closed:
        return False
    names = [p.table for p in closed]
    ctx.found("firewall.guest_blocks", where=ctx.guest,
              evidence=[ctx.t("network.windows_profile_blocks", profiles=ctx.join(names))],
              family="windows", table=names[0], chain="inbound", rule="policy block", when_os="windows",
              value="", subnet="")
    return True


def _allowed_in(allowed: list[Any], profile: str) -> bool:
    """Is there an Allow rule for ICMPv4 echo in this profile (its Profile is Any or names it)?"""
    return any(r.table in ("Any", "") or profile.lower() in r.table.lower() for r in allowed)
