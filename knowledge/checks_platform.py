"""Platform layer: is the hypervisor itself letting the guest onto the network?

Before any cable or bridge is examined, an operator checks the
virtualisation platform: is the VM running, is its virtual network started, is
its virtual NIC "connected"? For libvirt those facts live in the domain and
network XML; ``<link state='down'/>`` in particular shows nowhere else (the host
tap still looks UP). VMware Workstation and VirtualBox have their own module
(:mod:`.checks_platform_hosted`), imported here so all three steps register together.

The checks key on what the platform reports (domain state, XML, leases), never
on how a test or the lab builds it.
"""

from __future__ import annotations

from typing import Any

from vnetdoctor.probes.libvirt_conn import is_test_uri, uri_for
from vnetdoctor.probes.libvirt_xml import network_has_dhcp
from vnetdoctor.probes.vantage import Vantage

from . import checks_platform_hosted  # noqa: F401 - registers platform.vmware / platform.virtualbox
from .checks import check
from .checks_platform_dhcp import check_leases
from .checks_platform_nwnat import check_nat_inbound, check_nwfilter
from .context import StepContext
from .model import FAIL, WARN, Evidence
from .platform_fixes import each, found, taps_to_reattach

# --- libvirt -------------------------------------------------------------------------------

# States in which the guest answers nothing, and the catalogue fix (`when = "state=…"`) for each.
# "blocked" (waiting on a resource) is running as far as the network is concerned.
NOT_RUNNING = {
    "shutoff": "shutoff",
    "shutdown": "shutoff",  # on its way to shut off: start it once it is
    "crashed": "shutoff",
    "paused": "paused",
    "pmsuspended": "pmsuspended",
}


def _libvirt_guest(ctx: StepContext) -> Vantage | None:
    for vantage in (ctx.guest, ctx.host):
        if vantage is not None and vantage.kind == "libvirt":
            return vantage
    return None


@check("platform.libvirt")
def libvirt_platform(ctx: StepContext) -> None:
    guest = _libvirt_guest(ctx)
    if guest is None:
        ctx.skip(ctx.t("platform.no_libvirt_guest"))
        return
    uri = uri_for(guest)
    dom_obs = ctx.observe("libvirt.domains", guest, domain=guest.name)
    if not dom_obs.ok or not dom_obs.rows:
        ctx.skip(dom_obs.reason or ctx.t("platform.no_domain", domain=repr(guest.name)))
        return
    dom = dom_obs.rows[0]
    name = dom.name
    notes: list[str] = []

    if dom.state in NOT_RUNNING:
        known = dom.reason and dom.reason != "unknown"
        why = f" ({dom.reason})" if known else ""  # a template variable: stays as the catalogue expects
        said = dom.state + (ctx.t("common.paren_suffix", text=dom.reason) if known else "")
        found(
            ctx,
            "libvirt.domain_not_running",
            [ctx.evidence(ctx.t("platform.domain_state", domain=name, state=said, uri=uri), dom_obs)],
            facts={"state": NOT_RUNNING[dom.state]},
            uri=uri,
            guest=guest,
            domain=name,
            state=dom.state + why,
        )
    else:
        notes.append(ctx.t("platform.domain_running", domain=name, state=dom.state))

    if_obs = ctx.observe("libvirt.interfaces", guest, domain=name)
    ifaces = list(if_obs.rows) if if_obs.ok else []
    if not if_obs.ok:
        notes.append(ctx.t("platform.interfaces_unavailable", reason=if_obs.reason))
    elif not ifaces:
        notes.append(ctx.t("platform.no_interface_xml", domain=name))

    _check_macvtap(ctx, guest, uri, name, ifaces)
    _check_networks(ctx, guest, uri, name, ifaces, notes)
    _check_link_state(ctx, guest, uri, name, ifaces, notes)
    not_passing = check_leases(ctx, guest, uri, name, ifaces, notes) if dom.state not in NOT_RUNNING else []
    if dom.state not in NOT_RUNNING:
        check_nwfilter(ctx, guest, uri, name, ifaces)
        check_nat_inbound(ctx, guest, uri, ifaces)
        notes += _tap_counters(ctx, guest, uri, name)

    if not ctx.findings and not_passing:
        ctx.fail(ctx.join_clauses([*not_passing, *notes]))
    elif not ctx.findings:
        ctx.passed(ctx.join_clauses(notes) or ctx.t("platform.libvirt_ok", domain=name))
    else:
        for note in notes:
            ctx.note(note)


def _check_macvtap(ctx: StepContext, guest: Vantage, uri: str, domain: str, ifaces: list[Any]) -> None:
    """macvtap never loops host↔guest traffic back: a cause when it is the guest's only way."""
    direct = [i for i in ifaces if i.type == "direct"]
    if not direct or ctx.request.from_side == "guest" and ctx.facts.get("path") is not None \
            and ctx.facts["path"].outside:
        return
    trace = ctx.facts.get("trace")
    only_way = len(direct) == len(ifaces)
    severity = FAIL if only_way and (trace is None or trace.reachable is not True) else WARN
    iface = direct[0]
    found(
        ctx,
        "libvirt.macvtap_isolation",
        [ctx.t("platform.macvtap_iface", domain=domain, mac=iface.mac, source=iface.source),
         ctx.t("platform.macvtap_no_hairpin") + ("" if only_way else ctx.t("platform.macvtap_other_nics"))],
        uri=uri,
        where=ctx.host,  # the macvlan shim is made on the host, not in the guest
        severity=severity,
        domain=domain,
        mac=iface.mac,
        uplink=iface.source,
        network="default",
        dev="macvlan-host",
    )


def _check_networks(
    ctx: StepContext, guest: Vantage, uri: str, domain: str, ifaces: list[Any], notes: list[str]
) -> None:
    wanted = list(dict.fromkeys(i.network for i in ifaces if i.type == "network" and i.network))
    if not wanted:
        return
    net_obs = ctx.observe("libvirt.networks", guest)
    if not net_obs.ok:
        notes.append(ctx.t("platform.networks_unavailable", reason=net_obs.reason))
        return
    nets = {n.name: n for n in net_obs.rows}
    for net_name in wanted:
        net = nets.get(net_name)
        iface = next(i for i in ifaces if i.network == net_name)
        if net is None:
            # Nothing to start: say so rather than offer a net-start that cannot work.
            found(
                ctx,
                "libvirt.network_inactive",
                [ctx.evidence(ctx.t("platform.network_undefined", domain=domain, mac=iface.mac, network=net_name,
                                    uri=uri), net_obs)],
                keep=lambda fix: False,
                uri=uri,
                network=net_name,
                domain=domain,
                state="undefined",
            )
        elif not net.active:
            evidence = [
                ctx.evidence(
                    ctx.t("platform.network_inactive_dhcp" if network_has_dhcp(net) else "platform.network_inactive",
                          network=net_name, bridge=net.bridge or ctx.t("platform.a_bridge"), domain=domain,
                          mac=iface.mac),
                    net_obs,
                )
            ]
            if not net.autostart:
                evidence.append(ctx.evidence(ctx.t("platform.network_no_autostart_either", network=net_name), net_obs))
            taps = taps_to_reattach(ctx, guest, net_name, net.bridge)
            found(
                ctx,
                "libvirt.network_inactive",
                evidence,
                # Already autostarted: only the start is missing.
                keep=lambda fix: not fix.when and not (net.autostart and "autostart" in fix.command),
                extra=each(ctx, "libvirt.network_inactive", "step=reattach", taps, ctx.host),
                uri=uri,
                network=net_name,
                domain=domain,
                bridge=net.bridge,
                state="yes" if net.autostart else "no",
            )
        elif not net.autostart and net.persistent:
            # Up now, gone after the next host reboot. The catalogue's summary speaks of an
            # inactive network, so this stays a note rather than a mis-worded finding.
            notes.append(ctx.t("platform.network_not_autostarted", network=net_name))
        else:
            notes.append(ctx.t("platform.network_active", network=net_name, forward=net.forward, bridge=net.bridge))


def _check_link_state(
    ctx: StepContext, guest: Vantage, uri: str, domain: str, ifaces: list[Any], notes: list[str]
) -> None:
    down = [i for i in ifaces if i.link_state == "down"]
    if not down:
        if ifaces:
            notes.append(ctx.t("platform.links_up_in_xml"))
        return
    path_obs = ctx.observe("libvirt.path", guest, domain=domain, host=str(ctx.host))
    ctx.optional("libvirt.path", guest)  # only adds the tap's state to a finding's evidence
    taps = {p.mac: p for p in path_obs.rows} if path_obs.ok else {}
    for iface in down:
        dev = iface.target or iface.mac
        evidence = [
            Evidence(
                ctx.t("platform.link_down_in_xml", domain=domain, dev=dev, mac=iface.mac),
                "libvirt.interfaces",
                str(guest),
            )
        ]
        hop = taps.get(iface.mac)
        if hop is not None and hop.tap_present:
            evidence.append(
                ctx.evidence(
                    ctx.t("platform.tap_still_up_on" if hop.tap_master else "platform.tap_still_up",
                          tap=hop.tap, state=hop.tap_operstate or ctx.t("platform.no_state"), bridge=hop.tap_master),
                    path_obs,
                )
            )
        elif hop is not None and hop.note:
            evidence.append(ctx.evidence(ctx.t("platform.tap_note", tap=hop.tap or "-", note=hop.note), path_obs))
        found(
            ctx, "libvirt.interface_link_down", evidence, uri=uri, guest=guest,
            domain=domain, iface=dev, dev=dev, mac=iface.mac, network=iface.network,
            bridge=iface.bridge,
        )


def _tap_counters(ctx: StepContext, guest: Vantage, uri: str, domain: str) -> list[str]:
    """libvirt's own counters of each tap (``interfaceStats``) when the pings failed: drops there
    are the hypervisor's, seen nowhere inside the guest. The test driver invents them: not said."""
    trace = ctx.facts.get("trace")
    if trace is None or trace.reachable is not False or is_test_uri(uri):
        return []
    obs = ctx.observe("libvirt.ifstats", guest, domain=domain)
    ctx.optional("libvirt.ifstats", guest)  # counters sharpen the note, they decide nothing
    if not obs.ok:
        return []
    return [ctx.t("platform.tap_counters", tap=r.target, rx=r.rx_packets, rx_dropped=r.rx_dropped,
                  tx=r.tx_packets, tx_dropped=r.tx_dropped) for r in obs.rows]
