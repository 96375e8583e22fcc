"""Platform layer, libvirt's own filtering: nwfilters on a tap, and NAT networks closed from outside.

Both looked like generic firewall faults to the other steps on a real daemon: an
nwfilter drop was named ``firewall.bridge_filter`` and "fixed" by deleting a rule in
libvirt's generated chain (rebuilt on the next instantiation), and a peer beyond the
host pinging a NAT guest got ``ip.subnet_mismatch`` with a fix adding an address the
guest already had. These checks run after the end-to-end pings (the symptom step) and
name libvirt's own cause with a fix through libvirt, or say that NAT is closed by design.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import Any

from vnetdoctor.probes.libvirt_conn import is_remote_uri
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import EchoFailure

from .context import StepContext
from .facts import rows, snapshots
from .firewall_match import DROPPING, counter_deltas, rule_key
from .model import Evidence, Fix
from .platform_fixes import found, subnet_of

# Chains libvirt's nwfilter driver generates per tap: ebtables libvirt-I-vnet0, libvirt-O-vnet0
# (and the I-vnet0-ipv4 … sub-chains); iptables FI-/FO-/HI- (and FJ-/FP-/HJ-/HP- while it swaps).
_NWFILTER_CHAIN = re.compile(r"^(?:libvirt-[IOJP]-|[IO]-|[FH][IOJP]-)(?P<tap>[^-\s]+)")


def nwfilter_tap(chain: str) -> str | None:
    """The tap a libvirt nwfilter chain belongs to (None: not such a chain)."""
    m = _NWFILTER_CHAIN.match(chain)
    return m.group("tap") if m else None


def nwfilter_drops(ctx: StepContext, taps: set[str]) -> list[Any]:
    """Dropping rules in these taps' nwfilter chains whose counters grew during the pings."""
    before, after = snapshots(ctx, "host")
    deltas = counter_deltas(before, after)
    return [
        r for r in after
        if r.rule and (r.verdict.split() or [""])[0] in DROPPING and nwfilter_tap(r.chain) in taps
        and deltas.get(rule_key(r))
    ]


def check_nwfilter(ctx: StepContext, guest: Vantage, uri: str, domain: str, ifaces: list[Any]) -> None:
    """``libvirt.nwfilter_blocks`` when a filterref'd tap's libvirt chain dropped our probes."""
    trace = ctx.facts.get("trace")
    if trace is None or trace.reachable is not False:
        return
    filtered = {i.target: i for i in ifaces if i.filterref and i.target}
    if not filtered:
        return
    for rule in nwfilter_drops(ctx, set(filtered)):
        tap = nwfilter_tap(rule.chain) or ""
        iface = filtered[tap]
        ctx.facts["nwfilter_rules"] = {*ctx.facts.get("nwfilter_rules", set()), rule_key(rule)}
        found(
            ctx, "libvirt.nwfilter_blocks",
            [ctx.t("platform.nwfilter_ref", domain=domain, tap=tap, filter=iface.filterref),
             ctx.t("platform.nwfilter_rule_dropped", backend=rule.backend, family=rule.family, chain=rule.chain,
                   rule=rule.rule, delta=counter_deltas(*snapshots(ctx, "host")).get(rule_key(rule), 0))],
            uri=uri, domain=domain, port=tap, other=iface.filterref,
        )
        return


def check_nat_inbound(ctx: StepContext, guest: Vantage, uri: str, ifaces: list[Any]) -> None:
    """``libvirt.nat_inbound``: the sender is beyond the host and the guest is on a NAT network."""
    trace = ctx.facts.get("trace")
    target = ctx.target
    if ctx.request.from_side != "host" or not target or trace is None or trace.reachable is not False:
        return
    net_obs = ctx.observe("libvirt.networks", guest)
    nets = {n.name: n for n in net_obs.rows} if net_obs.ok else {}
    for iface in ifaces:
        net = nets.get(iface.network) if iface.type == "network" else None
        subnet = subnet_of(net.address, net.prefixlen) if net is not None else None
        # An inactive network has taken the host's own address away with its bridge: that
        # sender is not "outside", the network is down (libvirt.network_inactive says so).
        if net is None or not net.active or net.forward != "nat" or subnet is None or not _in(target, subnet):
            continue
        own = [a.address for a in rows(ctx, "addr.list", ctx.host) if a.family == "inet" and a.scope != "host"
               and not a.address.startswith("127.")]
        if not own or any(_in(a, subnet) for a in own):
            return  # the sender is on the network (the host itself), or its addresses are unknown
        evidence: list[str | Evidence] = [
            ctx.evidence(ctx.t("platform.nat_network", network=net.name, subnet=subnet, target=target), net_obs),
            ctx.t("platform.sender_outside", sender=ctx.host, subnet=subnet, addresses=ctx.join(own)),
        ]
        # Refused on the way (libvirt's REJECT answers port unreachable; another firewall's
        # may say prohibited): an ICMP error, not the sender's own kernel failing to send.
        rejected = sorted({r.error for r in trace.forward.echo.rows
                           if getattr(r, "failure", None) == EchoFailure.UNREACHABLE})
        if rejected:
            evidence.append(ctx.t("platform.nat_rejected", errors=ctx.join(rejected)))
        ctx.facts["nat_inbound"] = True  # network.address: not a subnet mismatch of the guest's
        found(ctx, "libvirt.nat_inbound", evidence, where=ctx.host, target=target, network=net.name,
              subnet=str(subnet), bridge=net.bridge)
        # libvirt's rules are on the hypervisor: runnable only when that is this machine's own
        # namespace and the sender's; else what to do, with its values, but nothing to run here.
        if not (ctx.host.kind == "local" and not is_remote_uri(uri)):
            finding = ctx.findings[-1]
            ctx.findings[-1] = replace(finding, fixes=tuple(
                Fix.guidance(["hypervisor"], risk=x.risk, where="", note=x.note) for x in finding.fixes))
        return


def _in(address: str, subnet: Any) -> bool:
    try:
        return ipaddress.ip_address(address) in subnet
    except ValueError:
        return False
