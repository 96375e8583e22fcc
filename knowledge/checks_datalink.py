"""Data-link layer: the bridge port, bridge-family filtering, MTU, and ARP.

ARP failing is usually a symptom: of a down link, a detached or blocking port,
suppressed ARP, a missing address. So ``arp.unresolved`` is only a candidate here;
the engine names it at the end of the walk when nothing more specific did.
"""

from __future__ import annotations

import random
from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .checks import check
from .checks_symptom import get_path, get_trace
from .context import StepContext
from .facts import conf_max, links, rows, snapshots, sysctl_int, sysctls
from .firewall_evidence import describe_suspect
from .firewall_match import Traffic, rule_key, rule_vars, suspects
from .trace import hop_label
from .model import Evidence


@check("datalink.bridge_port")
def bridge_port(ctx: StepContext) -> None:
    path = get_path(ctx)
    if not path.host_port:
        ctx.skip(ctx.t("datalink.host_end_unknown"), concluded=True)
        return
    host_links = links(ctx, ctx.host)
    port = host_links.get(path.host_port)
    expected = path.host_bridge if path.host_dev == path.host_bridge else None
    if port is None:
        ctx.skip(ctx.t("datalink.port_not_found", port=path.host_port, host=ctx.host), concluded=True)
        return
    if expected and port.master != expected:
        ends = (ctx.t("datalink.link_ends_at_port_of", port=port.name, other=port.master) if port.master
                else ctx.t("datalink.link_ends_at_detached", port=port.name))
        ctx.found(
            "bridge.port_detached",
            evidence=[
                ctx.saw(ctx.t("datalink.host_routes_via_bridge", ip=path.guest_ip or path.target, bridge=expected),
                        "route.lookup", ctx.host),
                ctx.saw(ends, "link.list", ctx.host),
            ],
            where=ctx.host,
            port=port.name,
            bridge=expected,
            other=port.master or "none",
        )
        return
    bridge = port.master if port.master and host_links.get(port.master) and host_links[port.master].kind == "bridge" else None
    if bridge is None:
        ctx.passed(ctx.t("datalink.routed_not_bridged", port=port.name))
        return
    ports = {p.port: p for p in rows(ctx, "bridge.ports", ctx.host) if p.bridge == bridge}
    bridges = {b.name: b for b in rows(ctx, "bridge.list", ctx.host)}
    ctx.optional("bridge.list")  # only adds the STP settings to a finding's evidence
    fdb = [f for f in rows(ctx, "bridge.fdb", ctx.host) if f.bridge == bridge]
    trace = get_trace(ctx)
    unreachable = trace is not None and trace.reachable is False
    checked = [path.host_port]
    transient: list[str] = []
    if path.bridged_through:
        checked += [p for p in ports if p != path.host_port]
    on_host = lambda text, probe: ctx.saw(text, probe, ctx.host)  # noqa: E731  (a line the host's probe saw)
    for name in checked:
        p = ports.get(name)
        if p is None:
            continue
        link = host_links.get(name)
        link_up = link is not None and link.admin_up and link.carrier
        if p.state != "forwarding" and link_up and p.state in TRANSIENT_STP and _never_left(trace):
            # A port that just joined (a guest started ~2 s ago) passes through listening and
            # learning; the sender's own kernel refused the echo (EPERM: its output firewall),
            # so the frames never got as far as this port and its state explains nothing.
            transient.append(ctx.t("datalink.stp_transient_not_cause", port=name, bridge=bridge, state=p.state))
            continue
        if p.state != "forwarding" and link_up:
            br = bridges.get(bridge)
            ev = [on_host(ctx.t("datalink.stp_state", port=name, bridge=bridge, state=p.state), "bridge.ports")]
            if p.bpdu_guard and p.state in ("disabled", "blocking"):
                ev.append(on_host(ctx.t("datalink.bpdu_guard", port=name), "bridge.ports"))
            if br is not None and br.stp_enabled:
                ev.append(on_host(ctx.t("datalink.stp_on", bridge=bridge, delay=f"{br.forward_delay_s:g}"), "bridge.list"))
            # The summary names the state the port is in (as the evidence does); which fix
            # applies is a separate fact: STP timers (stp) or a port disabled by BPDU guard.
            why = "disabled" if p.state == "disabled" or p.bpdu_guard else "stp"
            ctx.found("bridge.port_blocking", evidence=ev, where=ctx.host, port=name, bridge=bridge,
                      state=p.state or why, when_state=why)
            continue
        if name == path.host_port and (not p.bcast_flood or not p.flood):
            learned = any(f.mac == (path.guest_mac or "").lower() and f.port == name and not f.is_local for f in fdb)
            off = [label for label, on in (("flood", p.flood), ("bcast_flood", p.bcast_flood)) if not on]
            if not p.bcast_flood or not learned:
                flags = ctx.t("sep.and").join(off)
                ev = [on_host(ctx.t("datalink.flood_off", port=name, bridge=bridge, flags=flags), "bridge.ports")]
                if not p.bcast_flood:
                    ev.append(on_host(ctx.t("datalink.bcast_not_flooded"), "bridge.ports"))
                if not learned:
                    ev.append(on_host(ctx.t("datalink.mac_not_learned", mac=path.guest_mac or "?", port=name), "bridge.fdb"))
                ctx.found("bridge.flood_disabled", evidence=ev, where=ctx.host, port=name, bridge=bridge,
                          state=",".join(off), flag="bcast_flood" if not p.bcast_flood else "flood",
                          severity="fail" if unreachable else "warn")
    if not ctx.findings:
        ctx.passed(ctx.join_clauses(transient) if transient
                   else ctx.t("datalink.forwarding_port", port=path.host_port, bridge=bridge))
    else:
        for line in transient:
            ctx.note(line)


TRANSIENT_STP = ("listening", "learning")


def _never_left(trace: Any) -> bool:
    """Did the sender's kernel refuse to send the echo (EPERM: an output firewall)?"""
    leg = trace.forward if trace is not None else None
    return leg is not None and any("not permitted" in e.lower() for e in leg.send_errors)


@check("datalink.bridge_filter")
def bridge_filter(ctx: StepContext) -> None:
    path = get_path(ctx)
    if not path.host_bridge:
        ctx.skip(ctx.t("datalink.no_bridge"), concluded=True)
        return
    before, after = snapshots(ctx, "host")
    ifaces = tuple(i for i in (path.host_port, path.host_bridge) if i)
    found = []
    for proto in ("icmp", "arp"):
        t = Traffic(proto, path.host_ip or "", path.guest_ip or "", ("input", "output", "forward", "prerouting",
                    "postrouting"), ifaces, families=("bridge",))
        found += [s for s in suspects(before, after, t) if s not in found]
    # A drop in libvirt's nwfilter chains is named by the platform step (libvirt.nwfilter_blocks):
    # deleting a rule there does not last, libvirt rebuilds its chains.
    libvirts = ctx.facts.get("nwfilter_rules", set())
    found = [s for s in found if rule_key(s.rule) not in libvirts]
    trace = get_trace(ctx)
    if found and (trace is None or trace.reachable is not True):
        ctx.found(
            "firewall.bridge_filter",
            evidence=[ctx.saw(describe_suspect(s, ctx.lang), "firewall.rules", ctx.host) for s in found[:4]],
            where=ctx.host,
            **rule_vars(found[0].rule),
        )
        return
    n = sum(1 for r in after if r.family == "bridge" and r.rule)
    ctx.passed(ctx.t("datalink.bridge_rules_ok", count=n))


@check("datalink.mtu")
def mtu(ctx: StepContext) -> None:
    trace = get_trace(ctx)
    if trace is not None and trace.forward is not None and not trace.forward.echo.ok:
        # The pings did not run: say why, not that they failed.
        ctx.skip(ctx.t("symptom.cannot_ping", sender=trace.forward.sender, reason=trace.forward.echo.reason))
        return
    if trace is None or trace.forward is None or not trace.forward.ok:
        ctx.skip(ctx.t("datalink.mtu_needs_path"))
        return
    mtus = path_mtus(ctx)
    if not mtus:
        ctx.skip(ctx.t("datalink.no_mtus"))
        return
    sender, params = pmtu_request(ctx, mtus)
    sizes = [int(s) for s in params["sizes"].split(",")]
    _kernel_word(ctx)  # first: the probe must start inside the watch, not before it (see _watched_pmtu)
    obs = ctx.observe("icmp.pmtu", sender, **params)
    if not obs.ok:
        ctx.skip(ctx.t("datalink.pmtu_probe_failed", reason=obs.reason))
        return
    answered = {r.size for r in obs.rows if r.rtt_ms is not None}
    told = {r.size: r.error for r in obs.rows if r.error}
    lost = [s for s in sizes if s not in answered and s not in told]
    distinct = {m for *_, m in mtus}
    if lost and answered and len(distinct) > 1:
        smallest = min(mtus, key=lambda x: x[3])
        biggest = max(m for *_, m in mtus)
        ev: list[str | Evidence] = [
            ctx.evidence(ctx.t("datalink.df_lost", answered=ctx.join(sorted(answered)), lost=ctx.join(lost)), obs),
            ctx.t("datalink.mtu_path", mtus=ctx.join(
                ctx.t("datalink.mtu_of", hop=hop_label(side, iface, ctx.lang), mtu=m) for _, iface, side, m in mtus)),
        ]
        vantage = ctx.host if smallest[2] == "host" else ctx.guest
        ctx.found("mtu.mismatch", evidence=ev, where=vantage, dev=smallest[1], mtu=biggest, value=smallest[3],
                  size=max(lost) + 28)
        return
    if told:
        ctx.passed(ctx.t("datalink.pmtud_works", results=ctx.join_clauses(
            ctx.t("datalink.pmtu_told", size=s, error=e) for s, e in sorted(told.items()))))
        return
    ctx.passed(ctx.t("datalink.df_pass", size=max(answered) if answered else "?", mtus=sorted(distinct)))


def _kernel_word(ctx: StepContext) -> None:
    """Wait for the watched path-MTU probe and record what the kernel said about its packets."""
    pending = ctx.facts.pop("pmtu_kernel", None)
    kernel = pending.result(timeout=10) if pending is not None else None
    if kernel is not None:
        ctx.record(kernel)
        ctx.optional(kernel.probe, kernel.vantage)
        ctx.facts.setdefault("kernel_more", []).append(kernel)


@check("datalink.arp")
def arp(ctx: StepContext) -> None:
    path = get_path(ctx)
    host_links, guest_links = links(ctx, ctx.host), links(ctx, ctx.guest)

    # A MAC learned on a port that is not the guest's: another station uses the guest's MAC.
    if path.guest_mac and path.host_bridge and path.host_port:
        for f in rows(ctx, "bridge.fdb", ctx.host):
            if f.bridge == path.host_bridge and f.mac == path.guest_mac.lower() and not f.is_local \
                    and f.port != path.host_port:
                ctx.found(
                    "mac.duplicate",
                    evidence=[
                        ctx.t("datalink.guest_nic_mac", dev=path.guest_dev, mac=path.guest_mac, port=path.host_port),
                        ctx.saw(ctx.t("datalink.mac_learned_elsewhere", bridge=path.host_bridge, mac=f.mac,
                                      port=f.port), "bridge.fdb", ctx.host),
                    ],
                    where=ctx.guest, mac=path.guest_mac, other=f"the station behind {f.port}",
                    bridge=path.host_bridge, dev=path.guest_dev or "", value=_fresh_mac(path.guest_mac),
                )
                break
        own = {r.mac for r in host_links.values() if r.mac}
        if path.guest_mac.lower() in own and not ctx.findings:
            ctx.found("mac.duplicate", evidence=[ctx.saw(ctx.t("datalink.mac_is_host_mac", mac=path.guest_mac),
                                                         "link.list", ctx.host)],
                      where=ctx.guest, mac=path.guest_mac, dev=path.guest_dev or "", bridge=path.host_bridge or "",
                      other="a host interface", value=_fresh_mac(path.guest_mac))

    # Who answers ARP for the address the sender needs? (the target itself, or its gateway)
    wanted = arp_request(ctx)
    if wanted is None:
        if not ctx.findings:
            ctx.skip(ctx.t("datalink.no_next_hop"), concluded=True)
        return
    sender, sender_dev, next_hop = wanted
    probe = ctx.observe("arp.probe", sender, dev=sender_dev, target=next_hop)
    answers = list(probe.rows) if probe.ok else []
    macs = sorted({a.mac for a in answers})
    if len(macs) > 1:
        ctx.found(
            "ip.duplicate",
            evidence=[ctx.evidence(ctx.t("datalink.arp_many_answers", count=len(macs), ip=next_hop, macs=ctx.join(macs)),
                                   probe)],
            where=sender, ip=next_hop, mac=macs[0], other=macs[1], dev="",
            prefixlen=_prefixlen(ctx, sender, sender_dev), fix_where=f"the station with MAC {_intruder(macs, path)}",
        )
    neigh = [n for n in rows(ctx, "neigh.list", sender) if n.address == next_hop]
    stuck = [n for n in neigh if n.state in ("INCOMPLETE", "FAILED")]
    if probe.ok and not answers:
        # Why does nobody answer? Look at the receiving side's ARP settings.
        receiver = ctx.host if sender == ctx.guest else ctx.guest
        recv_dev = path.host_bridge or path.host_dev if receiver == ctx.host else path.guest_dev
        recv_links = host_links if receiver == ctx.host else guest_links
        reason = _arp_suppressed(ctx, receiver, recv_dev, recv_links, next_hop)
        send_row = (guest_links if sender == ctx.guest else host_links).get(sender_dev)
        if send_row is not None and send_row.noarp:
            ctx.found("arp.suppressed", evidence=[ctx.saw(ctx.t("datalink.noarp_sender", dev=sender_dev, sender=sender),
                                                          "link.list", sender)],
                      where=sender, dev=sender_dev, sysctl="", value="", state="NOARP", flag="noarp")
        elif reason is not None:
            ev, vars_ = reason
            ctx.found("arp.suppressed", evidence=[ctx.evidence(ctx.t("datalink.arp_no_answer", ip=next_hop, dev=sender_dev),
                                                               probe), *ev],
                      where=receiver, **vars_)
        else:
            ctx.facts["arp_unresolved"] = {
                "sender": sender, "dev": sender_dev, "ip": next_hop,
                "state": stuck[0].state if stuck else "INCOMPLETE",
                "mac": _mac_of(ctx, path, next_hop, host_links, guest_links),
                "evidence": [ctx.evidence(ctx.t("datalink.arp_no_answer_from", ip=next_hop, dev=sender_dev,
                                                sender=sender), probe)]
                + [Evidence(ctx.t("datalink.neighbour_on", ip=n.address, dev=n.ifname, state=n.state),
                            "neigh.list", str(sender)) for n in stuck],
            }
            # Not a pass: the probe saw no answer. The cause is named by the engine's
            # fallback (arp.unresolved) unless another step explains it first.
            ctx.fail(ctx.t("arp.nobody_answers", ip=next_hop))
    if not ctx.findings and not ctx.notes:
        if not macs and not probe.ok:
            # No ARP probe from this sender (a libvirt guest: no raw socket there). Its own
            # neighbour table may still know the answer; an unknown MAC is never a pass.
            known = sorted({n.lladdr.lower() for n in neigh if n.lladdr and n.state not in ("INCOMPLETE", "FAILED")})
            if known:
                ctx.passed(ctx.t("datalink.arp_in_neighbour_table", ip=next_hop, macs=ctx.join(known), sender=sender))
            else:
                ctx.skip(ctx.t("datalink.arp_not_probed", ip=next_hop, reason=probe.reason or probe.status))
            return
        ctx.passed(ctx.t("datalink.arp_resolved", ip=next_hop, macs=ctx.join(macs)))


def _arp_suppressed(
    ctx: StepContext, receiver: Vantage | None, dev: str | None, recv_links: dict[str, Any], ip: str
) -> tuple[list[str | Evidence], dict[str, Any]] | None:
    """(evidence, template vars) when the receiver's settings keep it from answering ARP for ip."""
    if receiver is None or not dev:
        return None
    row = recv_links.get(dev)
    if row is not None and row.noarp:
        return ([ctx.t("datalink.noarp_receiver", dev=dev, receiver=receiver)],
                {"dev": dev, "sysctl": "", "value": "", "state": "NOARP", "flag": "noarp"})
    values = sysctls(ctx, receiver)
    ignore = conf_max(values, dev, "arp_ignore")
    owners = [a for a in rows(ctx, "addr.list", receiver) if a.address == ip]
    on_dev = any(a.ifname == dev for a in owners)
    scope = "all" if sysctl_int(values, "net.ipv4.conf.all.arp_ignore") == ignore else dev
    key = f"net.ipv4.conf.{scope}.arp_ignore"
    if ignore >= 8:
        return ([ctx.saw(ctx.t("datalink.arp_ignore_all", sysctl=key, value=ignore), "sysctl.net", receiver)],
                {"dev": dev, "sysctl": key, "value": str(ignore), "state": f"arp_ignore={ignore}", "flag": "sysctl"})
    if ignore in (1, 2) and owners and not on_dev:
        return ([ctx.saw(ctx.t("datalink.arp_ignore_elsewhere", sysctl=key, value=ignore, ip=ip, dev=dev,
                               other=owners[0].ifname), "sysctl.net", receiver)],
                {"dev": dev, "sysctl": key, "value": str(ignore), "state": f"arp_ignore={ignore}", "flag": "sysctl"})
    if conf_max(values, dev, "arp_filter") and owners and not on_dev:
        k = f"net.ipv4.conf.{dev}.arp_filter"
        return ([ctx.saw(ctx.t("datalink.arp_filter", sysctl=k, ip=ip), "sysctl.net", receiver)],
                {"dev": dev, "sysctl": k, "value": "1", "state": "arp_filter=1", "flag": "sysctl"})
    return None


def _mac_of(ctx: StepContext, path: Any, ip: str, host_links: dict[str, Any], guest_links: dict[str, Any]) -> str:
    """The MAC that owns ``ip``, for a static neighbour entry: the guest's NIC, the host
    interface that holds the address, or a neighbour table that still knows it ("" if none)."""
    if ip == path.guest_ip and path.guest_mac:
        return str(path.guest_mac)
    for side, side_links in ((ctx.host, host_links), (ctx.guest, guest_links)):
        for a in rows(ctx, "addr.list", side):
            row = side_links.get(a.ifname)
            if a.address == ip and row is not None and row.mac:
                return str(row.mac)
    for side in (ctx.host, ctx.guest):
        for n in rows(ctx, "neigh.list", side):
            if n.address == ip and n.lladdr and n.state in ("REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT"):
                return str(n.lladdr)
    return ""


def _prefixlen(ctx: StepContext, vantage: Vantage | None, dev: str) -> int | str:
    for a in rows(ctx, "addr.list", vantage):
        if a.ifname == dev and a.family == "inet":
            return a.prefixlen
    return ""


def _fresh_mac(mac: str | None) -> str:
    """A locally administered MAC derived from the old one (02:… keeps it unique on the segment)."""
    tail = (mac or "00:00:00:00:00:00").split(":")[1:]
    return ":".join(["02", *tail]) if mac and not mac.lower().startswith("02:") else ":".join(["06", *tail])


def _intruder(macs: list[str], path: Any) -> str:
    """Of the stations answering for one address, the one that is not the guest we know."""
    others = [m for m in macs if m != (path.guest_mac or "").lower()]
    return others[0] if others else macs[-1]


def path_mtus(ctx: StepContext) -> list[tuple[str, str, str, int]]:
    """(label, interface, side, MTU) of every hop on the path."""
    path = get_path(ctx)
    host_links, guest_links = links(ctx, ctx.host), links(ctx, ctx.guest)
    out = []
    for hop in path.hops:
        row = (host_links if hop.side == "host" else guest_links).get(hop.iface)
        if row is not None:
            out.append((hop.label(), hop.iface, hop.side, row.mtu))
    return out


def pmtu_request(ctx: StepContext, mtus: list[tuple[str, str, str, int]]) -> tuple[Vantage, dict[str, str]]:
    """Who sends the DF pings, and which sizes: up to what the sender's own NIC carries.

    Drawn once per walk (the symptom step starts the probe, the MTU step reads it). The two
    large sizes are this run's own (60-140 and 1-7 bytes under the largest), so the kernel
    watch can follow them by IP length: the full 1500 is every full-size frame on the host.
    An MTU only 1-7 bytes short of the sender's goes unseen; none in use is (PPPoE is 8).
    """
    def draw() -> tuple[Vantage, dict[str, str]]:
        trace = get_trace(ctx)
        assert trace is not None and trace.forward is not None
        sender = trace.forward.sender
        sender_mtu = next((m for _, _, side, m in mtus if (side == "guest") == (sender == ctx.guest)), 1500)
        largest = max(28 + 28, sender_mtu - 28)
        rng = random.Random()
        if largest > 156:
            sizes = sorted({56, min(1000, largest), largest - rng.randint(60, 140), largest - rng.randint(1, 7)})
        else:
            sizes = sorted({56, largest})
        idents = rng.sample(range(1, 0x10000), len(sizes))
        return sender, {"dst": trace.forward.dst, "sizes": ",".join(str(s) for s in sizes),
                        "idents": ",".join(str(i) for i in idents)}

    return ctx.shared.memo("pmtu_request", draw)


def arp_request(ctx: StepContext) -> tuple[Vantage, str, str] | None:
    """(sender, its interface, the next hop it must resolve) for the ARP probe."""
    path = get_path(ctx)
    sender = ctx.guest if ctx.request.from_side == "guest" else ctx.host
    sender_dev = path.guest_dev if sender == ctx.guest else (path.host_bridge or path.host_dev)
    next_hop = None
    lookup = rows(ctx, "route.lookup", sender, dst=ctx.target) if ctx.target and sender is not None else []
    if lookup and lookup[0].type == "unicast":
        next_hop = lookup[0].gateway or ctx.target
        sender_dev = lookup[0].dev or sender_dev
    if sender is None or not sender_dev or not next_hop:
        return None
    return sender, sender_dev, next_hop


def start_active_probes(ctx: StepContext) -> None:
    """Right after the symptom's pings: start the ARP and path-MTU probes in the background,
    so that the data-link steps find them done instead of waiting their timeouts in turn.

    Not during the pings: the ARP probe's who-has makes every station answer, and their
    answers update the sender's neighbour entry (ip.duplicate: the real guest's answer
    would win the entry back from the rogue, and the pings would pass that otherwise fail).
    """
    wanted: list[tuple[str, Vantage, dict[str, Any]]] = []
    arp = arp_request(ctx)
    if arp is not None:
        wanted.append(("arp.probe", arp[0], {"dev": arp[1], "target": arp[2]}))
    trace = get_trace(ctx)
    if trace is not None and trace.forward is not None and trace.forward.ok:
        mtus = path_mtus(ctx)
        if mtus:
            sender, params = pmtu_request(ctx, mtus)
            _watched_pmtu(ctx, sender, params)
    ctx.prefetch(wanted)


def _watched_pmtu(ctx: StepContext, sender: Vantage, params: dict[str, str]) -> None:
    """Start the path-MTU probe with the kernel watching its large sizes: a size the kernel
    saw dropped (too big for a hop) stops waiting for its 0.8 s timeout."""
    from .checks_kernel import PMTU
    from .kernel_window import ICMP_OVERHEAD, watched

    sizes = [int(n) for n in params["sizes"].split(",")]
    idents = dict(zip((n + ICMP_OVERHEAD for n in sizes), (int(i) for i in params["idents"].split(",")),
                      strict=True))
    followed = {n: i for n, i in idents.items() if n not in (84, 1028, 1500)}  # no tool's default length
    observer, args = ctx.shared.observer, dict[str, Any](params)
    ctx.facts["pmtu_kernel"] = watched(ctx, get_path(ctx), PMTU, sender, followed, 2,
                                       lambda: observer.observe("icmp.pmtu", sender, **args))
