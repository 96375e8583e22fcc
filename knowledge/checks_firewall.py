"""Network layer, the host's and guest's packet filters: firewalls and NAT.

Firewall verdicts come from the trace and the counters: the vantage where the
echo requests stopped, and the DROP/REJECT rule on a hook they had to cross there
(best: the rule whose counter moved while our probes ran). Which cause id that
is follows from where the rule lives: inside the guest, on the host for its own
traffic, or on the host's forward path (routed, NATed, or bridged through
br_netfilter). Addresses, routes and sysctls are :mod:`.checks_network`'s.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from vnetdoctor.probes.probe_tag import ProbeTag
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import Direction, PacketKind

from .checks import check
from .checks_symptom import get_path, get_trace
from .context import StepContext
from .facts import rows, snapshots, sysctl_int, sysctls
from .firewall_evidence import describe_suspect
from .firewall_match import Suspect, Traffic, rule_vars, suspects
from .model import Evidence
from .path import global_v4, subnet_of


def _manager_note(ctx: StepContext, s: Suspect) -> str:
    manager = getattr(s.rule, "manager", "")
    return ctx.t("network.managed_by", manager=manager) if manager else ""


@check("network.firewall")
def firewall(ctx: StepContext) -> None:
    path = get_path(ctx)
    trace = get_trace(ctx)
    if trace is None or trace.forward is None:
        ctx.skip(ctx.t("network.no_trace"))
        return
    if trace.reachable:
        ctx.passed(ctx.t("network.probes_pass"))
        return
    from .checks_platform_windows import windows_guest, windows_guest_blocks

    if windows_guest(ctx) and windows_guest_blocks(ctx):
        return  # a Windows guest's profiles and rules are no counted chain: named there
    guest_ip, host_ip, target = path.guest_ip or "", path.host_ip or "", ctx.target or ""
    host_ifaces = tuple(i for i in (path.host_bridge, path.host_dev, path.host_port, path.uplink) if i)
    guest_ifaces = tuple(i for i in (path.guest_dev,) if i)
    found: list[tuple[str, Vantage, Suspect]] = []
    sides = [("guest", ctx.guest, guest_ifaces), ("host", ctx.host, host_ifaces)]
    for side, vantage, ifaces in sides:
        if vantage is None:
            continue
        before, after = snapshots(ctx, side)
        if side == "guest":
            peer = target if ctx.request.from_side == "guest" else host_ip
            flows = [Traffic("icmp", peer, guest_ip, ("input", "prerouting"), ifaces),
                     Traffic("icmp", guest_ip, peer, ("output", "postrouting"), ifaces)]
            cause = "firewall.guest_blocks"
        else:
            flows = []
            if not path.outside:
                flows = [Traffic("icmp", guest_ip, host_ip, ("input", "prerouting"), ifaces),
                         Traffic("icmp", host_ip, guest_ip, ("output", "postrouting"), ifaces)]
            cause = "firewall.host_blocks"
        for t in flows:
            for s in suspects(before, after, t):
                if not any(s.rule == f[2].rule for f in found):
                    found.append((cause, vantage, s))
        if side == "host" and path.outside:
            values = sysctls(ctx, ctx.host)
            br_nf = sysctl_int(values, "net.bridge.bridge-nf-call-iptables")
            fwd_cause = "firewall.br_netfilter_drop" if path.bridged_through else "firewall.forward_blocks"
            families = ("ip", "inet") if not path.bridged_through else ("ip",)
            t_out = Traffic("icmp", guest_ip, target, ("forward",), ifaces, families=families)
            t_back = Traffic("icmp", target, guest_ip, ("forward",), ifaces, families=families)
            for t in (t_out, t_back):
                for s in suspects(before, after, t):
                    if path.bridged_through and not br_nf:
                        continue  # bridged frames never meet iptables without br_netfilter
                    if not any(s.rule == f[2].rule for f in found):
                        found.append((fwd_cause, vantage, s))
    if not found:
        ctx.passed(ctx.t("network.no_dropping_rule"))
        return
    # Keep the causes at the vantage where the packets stopped, strongest proof first.
    stop_side = _stop_side(ctx, trace)
    found.sort(key=lambda f: (f[2].delta is None, f[1] != stop_side, not f[2].rule.rule))
    cause, vantage, best = found[0]
    # Each rule line is attributed to the firewall listing of the vantage it was read at.
    evidence: list[str | Evidence] = [
        Evidence(describe_suspect(best, ctx.lang) + _manager_note(ctx, best), "firewall.rules", str(vantage))
    ]
    evidence += [Evidence(describe_suspect(s, ctx.lang), "firewall.rules", str(v))
                 for c, v, s in found[1:4] if c == cause]
    if trace.forward is not None:
        evidence.append(trace.forward.evidence(ctx.lang))
    if cause == "firewall.br_netfilter_drop":
        evidence.append(ctx.t("network.br_netfilter_on"))
    extra: dict[str, Any] = {"sysctl": "net.bridge.bridge-nf-call-iptables"} if cause == "firewall.br_netfilter_drop" else {}
    subnet = _segment(ctx, path) or (f"{guest_ip}/32" if guest_ip else "")
    ctx.found(cause, evidence=evidence, where=vantage, subnet=subnet, bridge=path.host_bridge or "",
              **rule_vars(best.rule), **extra)


def _stop_side(ctx: StepContext, trace: Any) -> Vantage | None:
    leg = trace.forward
    if leg is None:
        return None
    last = leg.last_request_hop()
    if last is None:
        return leg.sender
    return last.vantage


@check("network.nat")
def nat(ctx: StepContext) -> None:
    path = get_path(ctx)
    trace = get_trace(ctx)
    if not path.outside or path.bridged_through:
        ctx.skip(ctx.t("network.not_beyond_router"), concluded=True)
        return
    if trace is None or trace.forward is None or trace.reachable:
        ctx.passed(ctx.t("network.outside_reached") if trace and trace.reachable else ctx.t("network.nothing_to_explain"))
        return
    guest_ip = path.guest_ip or ""
    rules = rows(ctx, "firewall.rules", ctx.host)
    nat_rules = [r for r in rules if r.verdict in ("masquerade", "snat") or "masquerade" in r.rule.lower()
                 or "snat" in r.rule.lower()]
    covering = [r for r in nat_rules if _covers(r.rule, guest_ip)]
    packets = trace.packets
    left_raw = [p for p in packets if p.iface == path.uplink and p.src == guest_ip
                and p.kind == PacketKind.ECHO_REQUEST]
    came_back = returned_on(trace, ctx.host, trace.forward.ident, ctx.target)
    if came_back:
        ctx.passed(ctx.t("network.untranslated_replies_return", ip=guest_ip, ifaces=ctx.join(came_back)))
        return
    if not covering and left_raw:
        subnet = ""
        for a in global_v4(rows(ctx, "addr.list", ctx.host), path.host_bridge or path.host_dev):
            subnet = str(subnet_of(a))
        ctx.found(
            "nat.masquerade_missing",
            evidence=[ctx.t("network.not_translated", uplink=path.uplink, ip=guest_ip),
                      ctx.t("network.no_masquerade", host=ctx.host, subnet=subnet or guest_ip)
                      + (ctx.t("network.other_nat_rules", count=len(nat_rules)) if nat_rules else ""),
                      trace.forward.evidence(ctx.lang)],
            where=ctx.host, subnet=subnet or f"{guest_ip}/32", uplink=path.uplink or "",
            backend="nft" if any(r.backend == "nftables" for r in rules) or not rules else "iptables",
        )
        return
    ctx.passed(ctx.t("network.nat_covers", count=len(covering), ip=guest_ip) if covering
               else ctx.t("network.not_leaving_untranslated"))


def _covers(rule: str, ip: str) -> bool:
    text = rule.lower()
    nets = re.findall(r"(?:saddr|-s|--source)\s+(!=\s*)?([0-9./]+)", text)
    if not nets:
        return True  # masquerade everything leaving an interface
    for negated, spec in nets:
        try:
            inside = ipaddress.ip_address(ip) in ipaddress.ip_network(spec, strict=False)
        except ValueError:
            return True
        if inside != bool(negated):
            return True
    return False


def _segment(ctx: StepContext, path: Any) -> str:
    """The guest's subnet as the host configures it (for firewall fix templates)."""
    for a in global_v4(rows(ctx, "addr.list", ctx.host), path.host_bridge or path.host_dev):
        return str(subnet_of(a))
    return ""


def returned_on(trace: Any, host: Vantage, ident: int, target: str | None) -> list[str]:
    """Host interfaces on which the outside answered: our echo replies, or ARP from the target.

    An ARP request "who-has <host address> tell <target>" arriving on another NIC is how
    an asymmetric return path first shows: the peer routes back by that NIC.
    """
    out: list[str] = []
    for p in trace.packets:
        if p.vantage != str(host) or p.direction != Direction.IN or p.iface in out:
            continue
        tag = ProbeTag.read(p.tag)
        reply = p.kind == PacketKind.ECHO_REPLY and tag is not None and tag.of_ping(ident)
        asks = bool(target) and p.kind == PacketKind.WHO_HAS and p.src == target
        if reply or asks:
            out.append(p.iface)
    return out
