"""The kernel's word in the verdict: which causes a drop reason confirms, and what it adds.

The configuration checks infer a drop from rules, counters and settings; the
``kernel.drops`` watch (run with the symptom's pings) says where the kernel ended
each probe packet and why. This module joins the two:

* every cause named gets the kernel's word as evidence where the kernel's verdict
  fits it (``kernel: dropped in nft_do_chain, NETFILTER_DROP, after guest eth0 (in)``)
  — :func:`kernel_evidence`, called by :meth:`.context.StepContext.found`;
* a drop the kernel reported (2 of 3 probe packets agreeing) that no named cause
  explains becomes ``kernel.drop_unexplained`` with its reason and place — named at
  the end of the walk by :func:`name_unexplained`.

Nothing is claimed beyond what the watch saw: a verdict on one side of the path
says nothing about the other, and no watch (a libvirt guest's kernel) means no word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from vnetdoctor.probes.kernel_drops import PROBE_ID
from vnetdoctor.probes.kernel_drops_parse import (
    CONSUMED,
    DROP,
    GUEST,
    HOST,
    OTHER,
    KernelDevice,
    KernelDropRow,
    packet_verdicts,
)
from vnetdoctor.probes.nft_trace import NftTraceRow

from .model import FAIL, Evidence, Finding

if TYPE_CHECKING:
    from .context import StepContext

# The names of the probe packets that checks send with the kernel watching (kernel_window.confirm).
PMTU = "pmtu"  # datalink.mtu's DF ping of a size that was lost
SYN = "syn"  # transport.tcp's SYN to a port that refused or ignored the connect

FIREWALL = frozenset({"firewall.guest_blocks", "firewall.host_blocks", "firewall.forward_blocks",
                      "firewall.bridge_filter", "firewall.br_netfilter_drop", "tcp.port_filtered",
                      "libvirt.nwfilter_blocks", "libvirt.nat_inbound"})
ARP = frozenset({"arp.suppressed", "arp.unresolved", "ip.duplicate", "bridge.flood_disabled"})
# A device that cannot send: down, without carrier, without a peer, a bridge without the port.
NO_WAY_OUT = frozenset({"link.host_if_down", "link.guest_if_down", "guest.no_nic", "bridge.port_detached",
                        "vmware.vmnet_down", "virtualbox.hostonly_down", "libvirt.interface_link_down",
                        "libvirt.network_inactive", "libvirt.domain_not_running"})
BRIDGE_NOT_DELIVERED = frozenset({"bridge.port_blocking", "bridge.flood_disabled", "bridge.port_detached",
                                  "vlan.mismatch", "mac.duplicate", "firewall.bridge_filter"})

# A drop reason → the causes it confirms (kernel-evidence.md's table, as measured here:
# tests/lab/test_kernel_drops.py holds what this kernel said for each lab fault).
REASON_CONFIRMS: Mapping[str, frozenset[str]] = {
    "NETFILTER_DROP": FIREWALL,
    "IP_RPFILTER": frozenset({"route.rp_filter"}),
    # A port in listening/learning/blocking, or of a bridge that is down (all its ports disabled).
    "BRIDGE_INGRESS_STP_STATE": frozenset({"bridge.port_blocking"}) | NO_WAY_OUT,
    "NEIGH_FAILED": ARP,
    "NO_SOCKET": frozenset({"tcp.port_closed"}),
    "PKT_TOO_BIG": frozenset({"mtu.mismatch"}),
    "IP_INNOROUTES": frozenset({"route.missing", "route.wrong_gateway", "sysctl.ip_forward_disabled"}),
    "IP_OUTNOROUTES": frozenset({"route.missing", "route.wrong_gateway"}),
    # ip_error on a packet to forward while forwarding is off.
    "IP_INADDRERRORS": frozenset({"sysctl.ip_forward_disabled"}),
    "QDISC_DROP": NO_WAY_OUT,
    "NO_TX_TARGET": NO_WAY_OUT,
}
# Where the reason says little (NOT_SPECIFIED), the function does.
FUNCTION_CONFIRMS: Mapping[str, frozenset[str]] = {
    "__dev_forward_skb2": frozenset({"mtu.mismatch"}),
    "__dev_forward_skb": frozenset({"mtu.mismatch"}),
    # The bridge sending a frame to itself: its own MAC is the guest's.
    "br_dev_xmit": frozenset({"mac.duplicate"}) | NO_WAY_OUT,
}


def kernel_rows(facts: Mapping[str, Any]) -> list[KernelDropRow]:
    """Every packet end the watch reported in this walk (none when it did not run)."""
    trace = facts.get("trace")
    # The symptom's watch, then the watches of checks confirming their own failed probe.
    watched = [*getattr(trace, "kernel", ()), *facts.get("kernel_more", ())]
    return [r for obs in watched if obs.ok for r in obs.rows if isinstance(r, KernelDropRow)]


def verdicts(facts: Mapping[str, Any]) -> list[KernelDropRow]:
    """One verdict per probe packet kind that at least 2 of its packets agree on."""
    return list(packet_verdicts(kernel_rows(facts)).values())


def arp_drops(facts: Mapping[str, Any]) -> list[KernelDropRow]:
    """Each distinct drop of an ARP request that started on our path.

    ARP frames carry no probe length, so these may include another namespace's with the
    same device names (a second lab): they are evidence for a cause they fit, never a
    cause of their own.
    """
    out: dict[tuple[str, str, str], KernelDropRow] = {}
    for r in kernel_rows(facts):
        if r.kind == "arp" and r.verdict == DROP and r.devices and not r.devices[0].off_path:
            out.setdefault((r.reason, r.function, r.side), r)
    return list(out.values())


def _no_reply(facts: Mapping[str, Any], probe: str) -> bool:
    trace = facts.get("trace")
    leg = getattr(trace, probe, None) if trace is not None else None
    return leg is not None and leg.echo.ok and leg.replies == 0


def explains(cause: str, row: KernelDropRow, facts: Mapping[str, Any]) -> bool:
    """Whether ``cause`` is what the kernel's verdict on this packet points at."""
    if row.verdict == CONSUMED:
        # An echo request consumed by icmp_rcv and never answered: echoes are ignored there.
        return (cause == "sysctl.icmp_echo_ignored" and row.function == "icmp_rcv" and row.kind == "request"
                and _no_reply(facts, row.probe))
    if row.kind == "arp" and cause in ARP:
        return True
    if row.reason == "OTHERHOST" and row.side == OTHER:
        return cause in BRIDGE_NOT_DELIVERED  # a flooded copy in a third namespace: not delivered to the guest
    return cause in REASON_CONFIRMS.get(row.reason, ()) or cause in FUNCTION_CONFIRMS.get(row.function, ())


def device_word(t: Callable[..., str], device: KernelDevice) -> str:
    """A device in the operator's language (``t``: a step's or a screen's translator):
    宿主机 br0, 虚拟机 eth0, or one in a namespace off the path."""
    if device.side == GUEST:
        return t("hop.guest", iface=device.iface)
    if device.side == HOST:
        return t("hop.host", iface=device.iface)
    return t("kernel.other_ns", iface=device.iface)


def _where(ctx: StepContext, row: KernelDropRow) -> str:
    if not row.last_dev:
        return ctx.t("kernel.nowhere")
    hop = device_word(ctx.t, KernelDevice(row.side, row.last_dev))
    return ctx.t("kernel.after_out", hop=hop) if row.direction == "out" else ctx.t("kernel.after_in", hop=hop)


def _what(ctx: StepContext, row: KernelDropRow) -> str:
    if row.kind == "arp":
        return ctx.t("kernel.kind_arp")
    if row.probe == PMTU and row.kind == "request":
        return ctx.t("kernel.kind_df", length=row.length)
    if row.probe == SYN and row.kind == "request":
        return ctx.t("kernel.kind_syn", port=ctx.request.port)
    return ctx.t("kernel.kind_reply") if row.kind == "reply" else ctx.t("kernel.kind_request")


def word(ctx: StepContext, row: KernelDropRow) -> str:
    """``kernel: echo request dropped in nft_do_chain, NETFILTER_DROP, after guest eth0 (received)``."""
    what = _what(ctx, row)
    if row.verdict == DROP:
        return ctx.t("kernel.dropped", what=what, function=row.function, reason=row.reason, where=_where(ctx, row))
    return ctx.t("kernel.consumed", what=what, function=row.function, where=_where(ctx, row))


def kernel_evidence(ctx: StepContext, cause: str) -> list[Evidence]:
    """The kernel's word on the probe packets, for a cause it confirms (nothing otherwise)."""
    out = []
    for row in [r for r in verdicts(ctx.facts) if r.kind != "arp"] + arp_drops(ctx.facts):
        if explains(cause, row, ctx.facts):
            out.append(Evidence(word(ctx, row), PROBE_ID, _vantage(ctx.facts)))
    if cause in FIREWALL:
        out += [Evidence(rule_word(ctx, found), "nft.trace") for found in ctx.facts.get("nft_trace", ())]
    return out


def rule_word(ctx: StepContext, found: NftTraceRow) -> str:
    """``nftables trace: inet filter input, rule handle 2 "icmp type echo-request counter drop": drop``."""
    if found.handle is None:
        return ctx.t("kernel.nft_policy", family=found.family, table=found.table, chain=found.chain,
                     verdict=found.verdict)
    return ctx.t("kernel.nft_rule", family=found.family, table=found.table, chain=found.chain, handle=found.handle,
                 rule=found.rule, verdict=found.verdict)


def _vantage(facts: Mapping[str, Any]) -> str:
    trace = facts.get("trace")
    for obs in getattr(trace, "kernel", ()) if trace is not None else ():
        if obs.ok:
            return obs.vantage
    return ""


def unexplained(facts: Mapping[str, Any], named: Iterable[Finding]) -> list[KernelDropRow]:
    """Drops of our pings the kernel agreed on, on our side of the path, that no cause of fail
    severity explains. An ARP drop is never one (see :func:`arp_drops`), nor a drop off the
    path: a peer beyond the host that this kernel happens to run (a lab's) is not ours to
    explain, and a real one is never seen at all."""
    causes = [f.cause for f in named if f.severity == FAIL]
    return [row for row in verdicts(facts) if row.verdict == DROP and row.kind != "arp"
            and row.side in (HOST, GUEST) and not any(explains(c, row, facts) for c in causes)]


def name_unexplained(ctx: StepContext, named: Iterable[Finding]) -> list[Finding]:
    """Name ``kernel.drop_unexplained`` for each unexplained drop of an unreachable walk."""
    trace = ctx.facts.get("trace")
    if trace is None or trace.reachable is not False:
        return []
    found = []
    for row in unexplained(ctx.facts, named):
        where = ctx.guest if row.side == GUEST else ctx.host if row.side == HOST else None
        devices = (ctx.t("kernel.devices", devices=ctx.join(device_word(ctx.t, d) for d in row.devices)) if row.devices
                   else ctx.t("kernel.no_devices"))
        found.append(ctx.found(
            "kernel.drop_unexplained",
            evidence=[Evidence(word(ctx, row), PROBE_ID, _vantage(ctx.facts)), devices],
            where=where,
            fixes=None if row.reason == "TC_INGRESS" and where is not None else [],
            other=ctx.t("kernel.other", what=_what(ctx, row), where=_where(ctx, row)),
            state=ctx.t("kernel.state", reason=row.reason, function=row.function),
            dev=row.last_dev, reason=row.reason.lower(), strict=False,
        ))
    return found
