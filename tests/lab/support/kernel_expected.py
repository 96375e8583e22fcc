"""What this kernel (6.18) said about each lab fault's probe packets, as measured.

One line per scenario whose fault the kernel reports within the symptom's probe
window: which probe packet (leg and kind), the verdict, the drop reason, the kernel
function and the side of the last device it was seen on. Measured by running the
walk on each scenario (issue 12), not copied from kernel-evidence.md: where this lab
differs from that note's (rp_filter here stops the peer's ARP for the return route,
so no IP_RPFILTER drop happens; ARP-level faults show as drops of the ARP request;
NEIGH_FAILED comes ~3 s after the window), the table says what happened here.

Scenarios not listed either show nothing in the window (a refused TCP port is not
pinged; a route or address fault sends no packet) or only normal ends, or what they
show varies from run to run (guest.no_nic: the ARP request's copy towards the vanished
NIC is dropped by its queue in some runs, in others only the uplink's copy is seen).
"""

from __future__ import annotations

from typing import NamedTuple


class Expected(NamedTuple):
    probe: str  # forward | reverse | arp
    kind: str  # request | reply | arp
    verdict: str  # drop | consumed
    reason: str
    function: str  # a prefix: the compiler may add a suffix (.constprop.0)
    side: str  # host | guest | other


# Asserted: the pings' own packets, recognised by their unique IP length.
KERNEL_EXPECTED: dict[str, Expected] = {
    "firewall.guest_blocks": Expected("forward", "request", "drop", "NETFILTER_DROP", "nft_do_chain", "guest"),
    "firewall.host_blocks": Expected("reverse", "request", "drop", "NETFILTER_DROP", "nf_hook_slow", "host"),
    "firewall.forward_blocks": Expected("forward", "request", "drop", "NETFILTER_DROP", "nft_do_chain", "host"),
    "firewall.br_netfilter_drop": Expected("forward", "request", "drop", "NETFILTER_DROP", "nft_do_chain", "host"),
    "firewall.bridge_filter": Expected("forward", "request", "drop", "NETFILTER_DROP", "nft_do_chain", "host"),
    "bridge.flood_disabled": Expected("forward", "request", "drop", "OTHERHOST", "ip_rcv_core", "other"),
    "mac.duplicate": Expected("forward", "request", "drop", "NOT_SPECIFIED", "br_dev_xmit", "host"),
    "sysctl.ip_forward_disabled": Expected("forward", "request", "drop", "IP_INADDRERRORS", "ip_error", "host"),
    "sysctl.icmp_echo_ignored": Expected("forward", "request", "consumed", "", "icmp_rcv", "guest"),
    "kernel.drop_unexplained": Expected("forward", "request", "drop", "TC_INGRESS", "__netif_receive_skb_core",
                                        "guest"),
}

# Seen in most runs, not asserted: drops of the ARP request the pings trigger. Whether the
# sender sends one inside the probe window depends on where its neighbour entry's retries
# stand (the lab's own checks at `lab up` start them), and ARP frames carry no probe length,
# so another lab on the machine with the same device names adds its own. The walk uses
# them only as evidence for a cause they fit (checks_kernel.arp_drops).
ARP_SEEN: dict[str, Expected] = {
    "bridge.port_blocking": Expected("arp", "arp", "drop", "BRIDGE_INGRESS_STP_STATE", "br_handle_frame", "host"),
    "bpdu-guard": Expected("arp", "arp", "drop", "BRIDGE_INGRESS_STP_STATE", "br_handle_frame", "host"),
    "arp.unresolved": Expected("arp", "arp", "drop", "TC_INGRESS", "__netif_receive_skb_core", "guest"),
    "link.host_if_down": Expected("arp", "arp", "drop", "QDISC_DROP", "__dev_queue_xmit", "guest"),
    "link.guest_if_down": Expected("arp", "arp", "drop", "NO_TX_TARGET", "br_dev_xmit", "host"),
    "bridge.port_detached": Expected("arp", "arp", "drop", "NO_TX_TARGET|QDISC_DROP", "br_dev_xmit|__dev_queue_xmit",
                                     "host"),
    "vmware.vmnet_down": Expected("arp", "arp", "drop", "BRIDGE_INGRESS_STP_STATE", "br_handle_frame", "host"),
}


def kernel_mismatch(name: str, diagnosis) -> str | None:  # type: ignore[no-untyped-def]
    """None when the walk's kernel.drops verdicts hold the expected one (and the first cause
    carries the kernel's word); else what was seen instead."""
    from vnetdoctor.probes.kernel_drops_parse import packet_verdicts

    expected = KERNEL_EXPECTED.get(name)
    if expected is None:
        return None
    rows = [r for s in diagnosis.steps for o in s.observations if o.probe == "kernel.drops" and o.ok for r in o.rows]
    if not rows and any(o.probe == "kernel.drops" and not o.ok for s in diagnosis.steps for o in s.observations):
        return None  # skipped with its reason (no tracefs here): nothing to compare
    verdicts = packet_verdicts(rows)
    got = verdicts.get((expected.probe, expected.kind))
    seen = sorted(f"{p}/{k}: {r.verdict} {r.reason} {r.function} @{r.side}" for (p, k), r in verdicts.items())
    if got is None or (got.verdict, got.side) != (expected.verdict, expected.side) \
            or got.reason not in expected.reason.split("|") \
            or not any(got.function.startswith(f) for f in expected.function.split("|")):
        return f"expected {expected}, kernel said {seen}"
    first = diagnosis.causes[0] if diagnosis.causes else None
    if first is None or not any(e.text.startswith("kernel:") for e in first.evidence):
        return f"the first cause has no kernel evidence: {first}"
    return None
