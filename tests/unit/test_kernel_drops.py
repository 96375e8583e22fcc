"""kernel.drops and nft.trace on recorded text: the kernel's word without a kernel.

The traces in tests/data/kernel_trace were recorded by the walk on lab scenarios
(the kernel.drops observation's raw lines and its probe lengths); the nft monitor
texts by --trace-rules runs. Nothing here needs root.
"""

from __future__ import annotations

import random

import pytest

from tests.unit.support.kernel_traces import DATA, follow
from vnetdoctor.knowledge.kernel_window import probe_sizes
from vnetdoctor.probes import kernel_drops, kernel_drops_tracefs
from vnetdoctor.probes.base import Skip
from vnetdoctor.probes.kernel_drops_parse import (
    CONSUMED,
    DROP,
    Follower,
    KernelDevice,
    ProbeLength,
    function_of,
    packet_verdicts,
    parse,
    parse_line,
)
from vnetdoctor.probes.nft_trace import final_verdict, parse_monitor, ruleset


def test_a_line_parses_into_event_fields_and_reason() -> None:
    line = ("python-23274   [001] .Ns1. 27594.679926: kfree_skb: skbaddr=00000000b307608c "
            "rx_sk=0000000000000000 protocol=2048 location=nft_do_chain+0x46f/0x690 reason: NETFILTER_DROP")
    ev = parse_line(line)
    assert ev is not None and ev.event == "kfree_skb" and ev.skb == "00000000b307608c"
    assert ev.reason == "NETFILTER_DROP" and ev.fields["protocol"] == "2048"
    assert function_of(ev.fields["location"]) == "nft_do_chain"
    assert parse_line("CPU:1 [LOST 12 EVENTS]") is None and parse_line("") is None


def test_guest_firewall_drop_is_named_after_the_guest_nic() -> None:
    verdicts = packet_verdicts(follow("firewall_guest_blocks").rows)
    got = verdicts[("forward", "request")]
    assert (got.verdict, got.reason, got.function, got.side, got.last_dev, got.direction) == (
        DROP, "NETFILTER_DROP", "nft_do_chain", "guest", "eth0", "in")
    assert got.devices == (KernelDevice("host", "br0"), KernelDevice("host", "vnet0"), KernelDevice("guest", "eth0"))
    # The other leg reached the host and was answered: a normal end, not a drop.
    assert verdicts[("reverse", "request")].verdict == CONSUMED


def test_iptables_legacy_drop_is_in_nf_hook_slow_on_the_host() -> None:
    verdicts = packet_verdicts(follow("firewall_host_blocks").rows)
    got = verdicts[("reverse", "request")]
    assert (got.reason, got.function, got.side) == ("NETFILTER_DROP", "nf_hook_slow", "host")


def test_a_flooded_copy_on_a_same_named_uplink_is_off_the_path() -> None:
    """br0 → eth0 without vnet0 in between cannot be the guest's eth0: it is the uplink's peer."""
    got = packet_verdicts(follow("bridge_flood_disabled").rows)[("forward", "request")]
    assert (got.reason, got.side) == ("OTHERHOST", "other")


def test_a_tc_drop_of_the_arp_request_is_attributed_to_the_guest() -> None:
    got = packet_verdicts(follow("arp_unresolved").rows)[("arp", "arp")]
    assert (got.reason, got.side, got.last_dev) == ("TC_INGRESS", "guest", "eth0")
    assert got.function.startswith("__netif_receive_skb_core")


def test_a_reused_buffer_address_is_not_pinned_on_the_probe() -> None:
    """The probe's buffer ended normally; the same address dropped later is someone else's."""
    text = "\n".join([
        "ping-1 [000] b.... 10.000000: net_dev_queue: dev=br0 skbaddr=00000000aaaa len=147",
        "ping-1 [000] ..s1. 10.000100: consume_skb: skbaddr=00000000aaaa location=icmp_rcv+0x1/0x2",
        "ping-1 [000] ..s1. 10.015000: kfree_skb: skbaddr=00000000aaaa rx_sk=0 protocol=2048 "
        "location=tcp_v4_rcv+0x1/0x2 reason: NO_SOCKET",
    ])
    follower = Follower([ProbeLength(133, "forward", "host")], [("host", "br0")])
    follower.feed(parse(text))
    assert [(r.verdict, r.function) for r in follower.rows] == [(CONSUMED, "icmp_rcv")]


def test_two_of_three_must_agree_before_a_drop_is_named() -> None:
    follower = follow("firewall_guest_blocks")
    drops = [r for r in follower.rows if r.probe == "forward" and r.verdict == DROP]
    assert len(drops) == 3
    one = packet_verdicts([drops[0], drops[1].__class__(**{**drops[1].__dict__, "reason": "OTHERHOST"})])
    assert ("forward", "request") not in one  # one each: no agreement
    assert packet_verdicts(drops[:2])[("forward", "request")].reason == "NETFILTER_DROP"


def test_filters_are_written_for_the_kernel() -> None:
    assert kernel_drops.length_filter([133]).split(" || ") == ["len == 28", "len == 42", "len == 133", "len == 147"]
    flt = kernel_drops.drop_filter()
    assert "protocol == 2048" in flt and "location.function != ping_rcv" in flt


def test_probe_sizes_are_distinct_and_never_a_default() -> None:
    for seed in range(200):
        sizes = probe_sizes(2, random.Random(seed))
        assert len(set(sizes)) == 2
        assert all(64 <= s <= 540 and s + 28 not in (84, 1028) for s in sizes)


def test_without_root_the_probe_is_skipped_with_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_drops_tracefs, "_root_fd", None)
    monkeypatch.setattr(kernel_drops_tracefs.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(kernel_drops_tracefs, "has_cap", lambda cap: False)
    with pytest.raises(Skip, match="needs root or CAP_DAC_OVERRIDE"):
        kernel_drops_tracefs.root_fd()
    watch = kernel_drops.KernelDropWatch([ProbeLength(133, "forward", "host")])
    assert watch.start() is False
    obs = watch.stop()
    assert obs.status == "skipped" and obs.reason == "needs root or CAP_DAC_OVERRIDE (tracefs)"


def test_nft_monitor_names_the_rule_and_leaves_our_table_out() -> None:
    rows = parse_monitor((DATA / "nft_monitor_rule_drop.txt").read_text(), "vnetdoctor_trace_1")
    final = final_verdict(rows)
    assert final is not None
    assert (final.family, final.table, final.chain, final.handle, final.verdict) == ("inet", "filter", "input", 2,
                                                                                     "drop")
    assert final.rule == "icmp type echo-request counter drop"  # counters stripped
    assert all(not r.table.startswith("vnetdoctor_trace_") for r in rows)


def test_nft_monitor_names_a_chain_policy() -> None:
    final = final_verdict(parse_monitor((DATA / "nft_monitor_policy_drop.txt").read_text()))
    assert final is not None and (final.chain, final.handle, final.verdict, final.rule) == ("forward", None, "drop", "")


def test_the_trace_table_matches_only_the_probe() -> None:
    text = ruleset("vnetdoctor_trace_7", "198.18.0.1", "198.18.0.11", 133)
    assert "table ip vnetdoctor_trace_7" in text
    assert text.count("meta nftrace set 1") == 4 and text.count("ip length 133") == 4
    assert "priority -300" in text and "ip saddr 198.18.0.1 ip daddr 198.18.0.11" in text
    with pytest.raises(ValueError):
        ruleset("vnetdoctor_trace_7", "198.18.0.1; flush ruleset", "198.18.0.11", 133)


def test_bench_prints_both_medians_side_by_side() -> None:
    from vnetdoctor.bench_diagnose import kernel_summary

    rows = [
        {"cause": "firewall.guest_blocks", "median_s": 0.9, "plain_s": 1.8},
        {"cause": "bridge.port_blocking", "median_s": 1.8, "plain_s": 1.8},
        {"cause": "tcp.port_closed", "median_s": 1.0, "plain_s": 1.0},
        {"cause": None, "median_s": 0.5, "plain_s": 0.45},
    ]
    with_line, without_line = kernel_summary(rows).splitlines()
    assert "broken 1.00 s (target ≤ 1.0 s)" in with_line and "healthy 0.50 s (target ≤ 0.6 s)" in with_line
    assert "broken 1.80 s" in without_line and "healthy 0.45 s" in without_line


def test_trace_rules_is_asked_for_and_recorded_with_the_request() -> None:
    import argparse

    from vnetdoctor.cli import build_parser
    from vnetdoctor.commands.diagnose import build_request
    from vnetdoctor.commands.tui import request_from_args
    from vnetdoctor.knowledge.model import Request
    from vnetdoctor.probes.errors import UsageError

    args = ["--target", "198.18.0.11", "--no-record"]
    asked = build_request(build_parser().parse_args(["diagnose", *args, "--trace-rules"]))
    assert asked.trace_rules and not build_request(build_parser().parse_args(["diagnose", *args])).trace_rules
    assert Request.from_dict(asked.to_dict()).trace_rules  # recorded, and read back
    tui = build_parser().parse_args(["tui", *args, "--trace-rules"])
    assert request_from_args(tui, "en").trace_rules  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="--trace-rules needs --target or --guest"):
        request_from_args(argparse.Namespace(**{**vars(tui), "target": None}), "en")
    assert build_parser().parse_args(["demo", "--trace-rules"]).trace_rules


def test_a_libvirt_guests_kernel_is_said_to_be_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    from vnetdoctor.knowledge import kernel_window
    from vnetdoctor.knowledge.path import Hop, Path
    from vnetdoctor.probes.vantage import parse_vantage

    host, guest = parse_vantage("netns:vnd-host"), parse_vantage("libvirt:vm1")
    path = Path("198.18.0.11", "host", hops=(Hop(host, "br0", "host", "bridge"), Hop(guest, "eth0", "guest", "nic")))
    window = kernel_window.KernelWindow(path, [("forward", host, 7, 3)])
    assert window.watch is not None  # the host's kernel is watched
    (skipped,) = window.skipped
    assert skipped.vantage == "libvirt:vm1" and skipped.status == "skipped"
    assert "guest's own kernel is out of reach" in skipped.reason
    monkeypatch.setattr(kernel_window, "missing_needs", lambda needs: "needs CAP_SYS_ADMIN")
    blocked = kernel_window.KernelWindow(path, [("forward", host, 7, 3)])
    assert blocked.watch is None and [o.reason for o in blocked.skipped] == [
        "the guest's own kernel is out of reach (tracing it would need a tracer run in the guest)",
        "needs CAP_SYS_ADMIN"]
