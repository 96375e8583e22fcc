"""Data-link layer, the host's bridge: the guest's port on it and bridge-family filtering.

A port that is detached, blocking (STP, BPDU guard) or not flooding keeps the guest's
frames off the segment however right its addresses are; a bridge-family DROP rule does
the same one floor up. MTU and ARP are :mod:`.checks_datalink`'s.
"""

from __future__ import annotations

from typing import Any

from .checks import check
from .checks_symptom import get_path, get_trace
from .context import StepContext
from .facts import links, rows, snapshots
from .firewall_evidence import describe_suspect
from .firewall_match import Traffic, rule_key, rule_vars, suspects


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
