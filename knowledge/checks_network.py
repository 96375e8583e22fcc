"""Network layer: addresses, routes, and the sysctls that drop ICMP or stop forwarding.

The firewall and NAT steps read rule listings and counters rather than addresses
and routes; they live in :mod:`.checks_firewall`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .checks import check
from .checks_firewall import returned_on
from .checks_symptom import get_path, get_trace, routed_by_host
from .context import StepContext
from .facts import rows, sysctl_int, sysctls
from .model import Evidence
from .path import global_v4, subnet_of


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
    # An address list that did not come back says nothing about addresses: never "no IPv4".
    host_addrs, host_unseen = _addresses(ctx, ctx.host, guest=False)
    guest_addrs, guest_unseen = _addresses(ctx, ctx.guest, guest=True)
    if host_dev and not path.outside:
        on_dev = global_v4(host_addrs, host_dev)
        if not on_dev and not host_unseen and ctx.request.from_side == "host" and path.host_port:
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
    g_addrs = [a for a in guest_addrs if a.ifname == path.guest_dev and a.family == "inet" and a.scope != "host"]
    h_addrs = [a for a in host_addrs if a.ifname == host_dev and a.family == "inet" and a.scope != "host"]
    if g_addrs and h_addrs:
        g = next((a for a in g_addrs if a.address == path.guest_ip), g_addrs[0])
        h = next((a for a in h_addrs if a.address == path.host_ip), h_addrs[0])
        g_net, h_net = subnet_of(g), subnet_of(h)
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
        ctx.passed(ctx.t("network.host_addresses", dev=host_dev, addrs=_cidrs(ctx, h_addrs)))
    elif ctx.request.target and ctx.guest is None:  # no address seen on the way: none to vouch for
        ctx.skip(ctx.t("network.host_no_ipv4", dev=host_dev, host=ctx.host) if host_dev else ctx.t("network.no_host_dev", target=ctx.target), concluded=True)
    else:
        _one_end(ctx, path, host_dev, g_addrs, h_addrs, host_unseen=host_unseen, guest_unseen=guest_unseen)


def _addresses(ctx: StepContext, vantage: Any, *, guest: bool) -> tuple[list[Any], str]:
    """(rows, why they were not seen: "" when they were) of one end's address list; no
    vantage counts as seen and empty."""
    if vantage is None:
        return [], ""
    obs = ctx.observe("addr.list", vantage)
    if obs.ok:
        return list(obs.rows), ""
    reason = obs.reason or obs.status
    if guest:
        return [], ctx.t("network.guest_addrs_unseen", guest=vantage, reason=reason)
    return [], ctx.t("network.host_addrs_unseen", host=vantage, reason=reason)


def _cidrs(ctx: StepContext, addrs: list[Any]) -> str:
    return ctx.join(f"{a.address}/{a.prefixlen}" for a in addrs)


def _one_end(ctx: StepContext, path: Any, host_dev: str | None, g_addrs: list[Any], h_addrs: list[Any], *,
             host_unseen: str = "", guest_unseen: str = "") -> None:
    """The guest is visible but one end's addresses are missing: say what was seen, not "both fine".

    Nothing was compared, so no pass may say the two ends share a subnet (issue 10): the
    note names the addresses one end has and why the other end's were not compared; with
    neither end's addresses, the comparison is skipped with its reason.
    """
    host_why = host_unseen or (ctx.t("network.host_no_ipv4", dev=host_dev, host=ctx.host) if host_dev
                               else ctx.t("network.no_host_end", host=ctx.host))
    guest_why = guest_unseen or (ctx.t("network.guest_no_ipv4", dev=path.guest_dev, guest=ctx.guest)
                                 if path.guest_dev else ctx.t("network.no_guest_end", guest=ctx.guest))
    if g_addrs:
        ctx.passed(ctx.t("network.guest_addresses", dev=path.guest_dev, addrs=_cidrs(ctx, g_addrs))
                   + ctx.t("network.uncompared_host", why=host_why))
    elif h_addrs:
        ctx.passed(ctx.t("network.host_addresses", dev=host_dev, addrs=_cidrs(ctx, h_addrs))
                   + ctx.t("network.uncompared_guest", why=guest_why))
    else:
        ctx.skip(ctx.t("network.nothing_to_compare", why=ctx.join_clauses([guest_why, host_why])),
                 concluded=not (host_unseen or guest_unseen))


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


def _host_prefix(ctx: StepContext, path: Any) -> int | str:
    for a in global_v4(rows(ctx, "addr.list", ctx.host), path.host_bridge or path.host_dev):
        return a.prefixlen
    return ""


def _wanted_ip(ctx: StepContext, path: Any) -> str:
    """The address the guest should have: the target when the host pings it."""
    if ctx.request.from_side == "host" and ctx.target:
        return ctx.target
    return ""
