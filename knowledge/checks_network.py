"""Network layer: addresses, routes, the sysctls that drop ICMP, firewalls, NAT.

Firewall verdicts come from the trace and the counters: the vantage where the
echo requests stopped, and the DROP/REJECT rule on a hook they had to cross there
(best: the rule whose counter moved while our probes ran). Which cause id that
is follows from where the rule lives: inside the guest, on the host for its own
traffic, or on the host's forward path (routed, NATed, or bridged through
br_netfilter).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from vnetdoctor.probes.probe_tag import ProbeTag
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import Direction, PacketKind

from .checks import check
from .checks_symptom import get_path, get_trace, routed_by_host
from .context import StepContext
from .facts import rows, snapshots, sysctl_int, sysctls
from .firewall_evidence import describe_suspect
from .firewall_match import Suspect, Traffic, rule_vars, suspects
from .model import Evidence
from .path import global_v4


def _net(addr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_interface(f"{addr.address}/{addr.prefixlen}").network


@check("network.address")
def address(ctx: StepContext) -> None:
    path = get_path(ctx)
    if ctx.guest is not None and path.guest_dev:
        obs = ctx.observe("addr.list", ctx.guest)
        if obs.ok:
            mine = global_v4(list(obs.rows), path.guest_dev)
            usable = [a for a in mine if not a.address.startswith("169.254.")]
            if not usable:
                what = ctx.t("network.guest_link_local_only" if mine else "network.guest_no_ipv4",
                             dev=path.guest_dev, guest=ctx.guest)
                ctx.found("ip.no_address", evidence=[ctx.evidence(what, obs)],
                          where=ctx.guest, dev=path.guest_dev, ip=_wanted_ip(ctx, path), prefixlen=_host_prefix(ctx, path),
                          state="link-local" if mine else "no-address")
                return
    host_dev = path.host_bridge or path.host_dev
    host_addrs = rows(ctx, "addr.list", ctx.host)
    if host_dev and not path.outside:
        on_dev = global_v4(host_addrs, host_dev)
        if not on_dev and ctx.request.from_side == "host" and path.host_port:
            ctx.found("ip.no_address", evidence=[ctx.saw(ctx.t("network.host_no_ipv4", dev=host_dev, host=ctx.host),
                                                         "addr.list", ctx.host)],
                      where=ctx.host, dev=host_dev, ip="", prefixlen="", state="no-address")
            return
    if ctx.facts.get("nat_inbound"):
        # A peer beyond the host and a guest on a NAT network are in different subnets by
        # design: libvirt.nat_inbound says so; no address is missing on the guest.
        ctx.passed(ctx.t("network.nat_by_design"))
        return
    # Both ends in one subnet, seen from each end.
    g_addrs = [a for a in rows(ctx, "addr.list", ctx.guest) if a.ifname == path.guest_dev and a.family == "inet"
               and a.scope != "host"]
    h_addrs = [a for a in host_addrs if a.ifname == host_dev and a.family == "inet" and a.scope != "host"]
    if g_addrs and h_addrs:
        g = next((a for a in g_addrs if a.address == path.guest_ip), g_addrs[0])
        h = next((a for a in h_addrs if a.address == path.host_ip), h_addrs[0])
        g_net, h_net = _net(g), _net(h)
        h_ip, g_ip = ipaddress.ip_address(h.address), ipaddress.ip_address(g.address)
        if h_ip not in g_net or g_ip not in h_net:
            ev = [
                ctx.t("network.guest_subnet", ip=g.address, prefixlen=g.prefixlen, dev=g.ifname, subnet=g_net)
                + ("" if h_ip in g_net else ctx.t("network.lacks_host_ip", ip=h.address)),
                ctx.t("network.host_subnet", ip=h.address, prefixlen=h.prefixlen, dev=h.ifname, subnet=h_net)
                + ("" if g_ip in h_net else ctx.t("network.lacks_guest_ip", ip=g.address)),
            ]
            ctx.found("ip.subnet_mismatch", evidence=ev, where=ctx.guest, dev=g.ifname, ip=g.address,
                      prefixlen=h.prefixlen, peer_ip=h.address, subnet=str(h_net))
            return
        ctx.passed(ctx.t("network.same_subnet", guest_ip=g.address, guest_prefixlen=g.prefixlen,
                         host_ip=h.address, host_prefixlen=h.prefixlen, subnet=h_net))
        return
    if ctx.request.target and ctx.guest is None and h_addrs:
        ctx.passed(ctx.t("network.host_addresses", dev=host_dev, addrs=ctx.join(f"{a.address}/{a.prefixlen}" for a in h_addrs)))
    elif ctx.request.target and ctx.guest is None:  # no address seen on the way: none to vouch for
        ctx.skip(ctx.t("network.host_no_ipv4", dev=host_dev, host=ctx.host) if host_dev else ctx.t("network.no_host_dev", target=ctx.target), concluded=True)
    else:
        ctx.passed(ctx.t("network.addresses_present"))


def _lookup(ctx: StepContext, vantage: Vantage | None, dst: str | None, **kw: Any) -> Any:
    if vantage is None or not dst:
        return None
    found = rows(ctx, "route.lookup", vantage, dst=dst, **kw)
    return found[0] if found else None


@check("network.route")
def route(ctx: StepContext) -> None:
    path = get_path(ctx)
    trace = get_trace(ctx)
    req = ctx.request
    sender = ctx.guest if req.from_side == "guest" else ctx.host
    receiver = ctx.host if req.from_side == "guest" else ctx.guest
    target = ctx.target
    sender_ip = path.guest_ip if req.from_side == "guest" else path.host_ip

    fwd = _lookup(ctx, sender, target)
    if fwd is not None and fwd.type != "unicast" and fwd.type != "local":
        ctx.found("route.missing", evidence=[ctx.saw(ctx.t("network.no_route", sender=sender, target=target,
                                                           why=fwd.error or fwd.type), "route.lookup", sender)],
                  where=sender, target=target, gateway=path.host_ip if sender == ctx.guest else "",
                  dev=path.guest_dev if sender == ctx.guest else (path.host_bridge or path.host_dev or ""),
                  subnet=f"{target}/32", route="default" if sender == ctx.guest and path.host_ip else "subnet")
        return
    # The reply direction: can the receiver route back to the sender's address?
    if receiver is not None and sender_ip and not path.outside:
        back = _lookup(ctx, receiver, sender_ip)
        if back is not None and back.type not in ("unicast", "local"):
            ctx.found("route.missing", evidence=[ctx.saw(ctx.t("network.no_route_back", receiver=receiver, ip=sender_ip,
                                                               why=back.error or back.type), "route.lookup", receiver)],
                      where=receiver, target=sender_ip, subnet=f"{sender_ip}/32",
                      gateway=path.host_ip if receiver == ctx.guest else "",
                      dev=path.guest_dev if receiver == ctx.guest else (path.host_bridge or path.host_dev or ""),
                      route="default" if receiver == ctx.guest else "subnet")
            return
    # Gateway: the guest's next hop must be an address that answers (the host, usually).
    if fwd is not None and fwd.gateway and sender is not None and sender == ctx.guest:
        host_addrs = {a.address for a in rows(ctx, "addr.list", ctx.host)}
        gw_neigh = [n for n in rows(ctx, "neigh.list", sender) if n.address == fwd.gateway]
        arp = ctx.observe("arp.probe", sender, dev=fwd.dev, target=fwd.gateway) if fwd.dev else None
        answered = bool(arp and arp.ok and arp.rows)
        if fwd.gateway not in host_addrs and not answered:
            ev: list[str | Evidence] = [
                ctx.saw(ctx.t("network.via_gateway", sender=sender, target=target, gateway=fwd.gateway, dev=fwd.dev),
                        "route.lookup", sender),
                ctx.evidence(ctx.t("arp.nobody_answers", ip=fwd.gateway),
                             arp if arp is not None and arp.ok else None)]
            ev += [ctx.saw(ctx.t("network.neighbour", ip=n.address, state=n.state), "neigh.list", sender)
                   for n in gw_neigh]
            if path.host_ip:
                ev.append(ctx.saw(ctx.t("network.host_segment_ip", ip=path.host_ip), "addr.list", ctx.host))
            ctx.found("route.wrong_gateway", evidence=ev, where=sender, gateway=path.host_ip or "",
                      value=fwd.gateway, dev=fwd.dev)
            return
    # Reverse-path filtering: ask the kernel whether it accepts the sender's packets on the
    # interface they arrive by (``ip route get`` with iif says "Invalid cross-device link").
    checks: list[tuple[Vantage, str, str, str]] = []
    if receiver is not None and sender_ip and target:
        in_dev = path.guest_dev if receiver == ctx.guest else (path.host_bridge or path.host_dev)
        if in_dev and not path.outside:
            checks.append((receiver, in_dev, sender_ip, target))
    if path.outside and path.guest_ip and target:
        in_dev = path.host_bridge or path.host_dev
        if in_dev:
            checks.append((ctx.host, in_dev, path.guest_ip, target))
        # Replies that came back by another interface than the one they left by.
        if trace is not None and trace.forward is not None:
            for iface in returned_on(trace, ctx.host, trace.forward.ident, target):
                if iface != path.uplink:
                    checks.append((ctx.host, iface, target, path.guest_ip))
    if trace is not None and trace.reverse is not None and path.host_ip and path.guest_ip and not path.outside:
        # The reverse leg: requests from the receiver arrive at the sender.
        in_dev = path.host_bridge or path.host_dev if sender == ctx.host else path.guest_dev
        if in_dev and sender is not None:
            src = path.guest_ip if sender == ctx.host else path.host_ip
            dst = path.host_ip if sender == ctx.host else path.guest_ip
            checks.append((sender, in_dev, src, dst))
    for vantage, in_dev, src, dst in checks:
        values = sysctls(ctx, vantage)
        rp_all = sysctl_int(values, "net.ipv4.conf.all.rp_filter")
        rp_dev = sysctl_int(values, f"net.ipv4.conf.{in_dev}.rp_filter")
        if max(rp_all, rp_dev) != 1:
            continue  # 0 is off, 2 (loose) accepts any source the host can route back to
        back = _lookup(ctx, vantage, src)
        if back is None or back.type != "unicast" or back.dev == in_dev:
            continue
        # Strict mode drops what arrives on another interface than the route back; the
        # kernel's own answer for that arrival confirms it (EXDEV/EINVAL for a martian).
        res = _lookup(ctx, vantage, dst, src=src, iif=in_dev)
        kernel = (ctx.t("network.kernel_route_get", dst=dst, src=src, dev=in_dev, why=res.error or res.type)
                  if res is not None else "")
        key = "all" if rp_all >= rp_dev else in_dev
        ev = [ctx.saw(ctx.t("network.rp_arrival", where=vantage, src=src, dev=in_dev, other=back.dev), "route.lookup",
                      vantage),
              ctx.saw(ctx.t("network.rp_strict", sysctl=f"net.ipv4.conf.{key}.rp_filter") + kernel, "sysctl.net",
                      vantage)]
        ctx.found("route.rp_filter", evidence=ev, where=vantage, dev=in_dev, peer_ip=src, other=back.dev,
                  sysctl=f"net.ipv4.conf.{key}.rp_filter", value="1")
        return
    ctx.passed(ctx.t("network.routes_via", sender=sender, target=target, dev=fwd.dev if fwd is not None else "?")
               + (ctx.t("network.routes_gateway", gateway=fwd.gateway) if fwd is not None and fwd.gateway else ""))


@check("network.sysctl")
def sysctl(ctx: StepContext) -> None:
    path = get_path(ctx)
    trace = get_trace(ctx)
    legs = [leg for leg in ((trace.forward, trace.reverse) if trace else ()) if leg is not None and leg.echo.ok]
    if not legs:
        _echo_switch_read(ctx, trace)
    for leg in legs:
        if leg.ok:
            continue
        receiver = ctx.guest if leg.sender == ctx.host else ctx.host
        if receiver is None or (path.outside and leg.name == "forward"):
            continue
        values = sysctls(ctx, receiver)
        if sysctl_int(values, "net.ipv4.icmp_echo_ignore_all") == 1:
            ctx.found("sysctl.icmp_echo_ignored",
                      evidence=[ctx.saw(ctx.t("network.echo_ignored", receiver=receiver), "sysctl.net", receiver),
                                leg.evidence(ctx.lang)],
                      where=receiver, sysctl="net.ipv4.icmp_echo_ignore_all", value="1")
    routed = routed_by_host(ctx, path)
    if routed:
        values = sysctls(ctx, ctx.host)
        in_dev = path.host_bridge or path.host_dev or ""
        fwd = sysctl_int(values, "net.ipv4.ip_forward", 1)
        dev_fwd = sysctl_int(values, f"net.ipv4.conf.{in_dev}.forwarding", fwd) if in_dev else fwd
        if fwd == 0 or dev_fwd == 0:
            key = "net.ipv4.ip_forward" if fwd == 0 else f"net.ipv4.conf.{in_dev}.forwarding"
            off = ctx.t("network.forwarding_off", sysctl=key, host=ctx.host)
            ev: list[str | Evidence] = [ctx.saw(off, "sysctl.net", ctx.host)]
            if trace is not None and trace.forward is not None:
                ev.append(trace.forward.evidence(ctx.lang))
            ctx.found("sysctl.ip_forward_disabled", evidence=ev, where=ctx.host, sysctl=key, value="0", dev=in_dev)
    if not ctx.findings and legs:
        ctx.passed(ctx.t("network.echo_answered") + (ctx.t("network.forwarding_on") if path.outside else ""))
    elif not ctx.findings and routed:
        ctx.passed(ctx.t("network.forwarding_on").lstrip(" ;，；"))


def _echo_switch_read(ctx: StepContext, trace: Any) -> None:
    """No ping ran (no CAP_NET_RAW, no target): read icmp_echo_ignore_all at the ends we can see.

    Without the pings nothing says the echo was answered, so a pass would claim
    what was not observed; the switch itself is a file anyone may read. When no
    receiving end can be read, the step is skipped with the pings' reason.
    """
    # The ends that would answer: the guest (and the host, for the guest's ping back) when
    # both are vantages; the target alone is no vantage and its switch cannot be read.
    receivers: list[Vantage] = []
    if ctx.guest is not None and not (ctx.request.from_side == "guest" and get_path(ctx).outside):
        receivers = [ctx.guest, ctx.host]
    reason = trace.forward.echo.reason if trace is not None and trace.forward is not None else ""
    if not receivers:
        ctx.skip(ctx.t("network.echo_unseen", reason=reason or ctx.t("network.no_trace")))
        return
    seen = []
    for receiver in receivers:
        values = sysctls(ctx, receiver)
        if not values:
            continue  # the observation says why (recorded: the step cannot pass without it)
        if sysctl_int(values, "net.ipv4.icmp_echo_ignore_all") == 1:
            # Not seen failing (no ping ran), so a warning: it will fail as soon as one does.
            ctx.found("sysctl.icmp_echo_ignored",
                      evidence=[ctx.saw(ctx.t("network.echo_ignored", receiver=receiver), "sysctl.net", receiver)],
                      where=receiver, sysctl="net.ipv4.icmp_echo_ignore_all", value="1", severity="warn")
        else:
            seen.append(str(receiver))
    if seen and not ctx.findings:
        ctx.passed(ctx.t("network.echo_switch_off", receivers=ctx.join(seen)))
    elif not ctx.findings and not ctx.unobserved():
        ctx.skip(ctx.t("network.echo_unseen", reason=reason or ctx.t("network.no_trace")))


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
            subnet = str(_net(a))
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
    import re

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
        return str(_net(a))
    return ""


def _host_prefix(ctx: StepContext, path: Any) -> int | str:
    for a in global_v4(rows(ctx, "addr.list", ctx.host), path.host_bridge or path.host_dev):
        return a.prefixlen
    return ""


def _wanted_ip(ctx: StepContext, path: Any) -> str:
    """The address the guest should have: the target when the host pings it."""
    if ctx.request.from_side == "host" and ctx.target:
        return ctx.target
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
