"""A check's own skip reason stands only on what was observed (issue 10: never claim what was not observed).

Some checks stop with a fact they concluded ("the path crosses no bridge on the
host", "no VMware Workstation networking on this host"). Run without the
capability to enter the namespaces, the probes that fact rests on were skipped:
nobody saw the path or the host's links, so the note must be only the skip
(``skipped: needs CAP_SYS_ADMIN (...)``). The same check with its premise observed
keeps its reason, and a plain reason that is no conclusion (``ctx.skip`` without
``concluded``) keeps it too (tests/unit/test_honest_status.py).

Each case runs the real check on a fake observer: the probes named in ``seen`` answer
with those rows, every other one is skipped for CAP_SYS_ADMIN, as the probes say it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from vnetdoctor.knowledge.checks import load_checks
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import SKIP, Request
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.probes.base import OK, SKIPPED, Observation
from vnetdoctor.probes.rows import AddrRow, FdbRow, LinkRow, RouteLookupRow, SysctlRow
from vnetdoctor.probes.vantage import LOCAL, Vantage

CHECKS = load_checks()
HOST, GUEST = Vantage("netns", "vnd-t-host"), Vantage("netns", "vnd-t-guest")
NEEDS = "needs CAP_SYS_ADMIN"
Seen = Mapping[tuple[str, ...], Sequence[Any]]


class Unprivileged(Observer):
    """Answers the probes in ``seen`` with their rows; every other probe is skipped for CAP_SYS_ADMIN.

    A route lookup is answered per destination when ``seen`` has (probe, vantage, dst).
    """

    def __init__(self, seen: Seen) -> None:
        super().__init__(workers=2)
        self.seen = seen

    def run(self, probe_id: str, vantage: Vantage, params: dict[str, Any]) -> Observation:
        rows = self.seen.get((probe_id, str(vantage), str(params.get("dst"))), self.seen.get((probe_id, str(vantage))))
        pairs = tuple(sorted((k, str(v)) for k, v in params.items() if v is not None))
        if rows is None:
            return Observation(probe_id, str(vantage), SKIPPED, reason=NEEDS, params=pairs)
        return Observation(probe_id, str(vantage), OK, rows=tuple(rows), params=pairs)


def walk_step(step: str, seen: Seen, *, host: Vantage = HOST, guest: Vantage | None = GUEST,
              target: str = "198.18.0.11", from_side: str = "host", lang: str = "en") -> StepContext:
    req = Request(target=target, host=host, guest=guest, from_side=from_side, lang=lang)
    ctx = StepContext(Shared(req, Unprivileged(seen), lang), step, "test")
    CHECKS[step](ctx)
    return ctx


def link(name: str, kind: str = "", driver: str = "e1000", master: str = "", carrier: bool = True) -> LinkRow:
    return LinkRow(ifindex=2, name=name, kind=kind, operstate="UP" if carrier else "DOWN", admin_up=True,
                   carrier=carrier, mtu=1500, mac="52:54:00:00:00:01", master=master, driver=driver)


# The host of a routed guest, as a process that may read it sees it: eth0, no bridge at all.
ROUTED_HOST: Seen = {
    ("link.list", str(LOCAL)): [link("lo", kind="loopback", driver=""), link("eth0")],
    ("addr.list", str(LOCAL)): [AddrRow("eth0", "inet", "198.18.0.1", 24, "global")],
    ("route.lookup", str(LOCAL)): [RouteLookupRow("198.18.0.11", "unicast", dev="eth0", prefsrc="198.18.0.1")],
}


def assert_only_the_skip(ctx: StepContext, claim: str) -> None:
    note = ctx.summary_note()
    assert ctx.status() == SKIP
    assert note.startswith(f"skipped: {NEEDS} ("), note
    assert claim not in note, f"{note!r} claims what no probe saw"
    assert "link.list on netns:vnd-t-host" in note, note


# --- the premise came from skipped probes: the note is only the skip ----------------------------

@pytest.mark.parametrize(("step", "claim"), [
    ("datalink.bridge_filter", "crosses no bridge"),
    ("datalink.bridge_port", "host end of the guest's link is not known"),
    ("datalink.arp", "no next hop"),
    ("network.nat", "not beyond a routing host"),
    ("physical.cable", "without carrier"),
    ("platform.vmware", "no VMware"),
    ("platform.virtualbox", "no VirtualBox"),
    ("physical.links", "no path interfaces known"),
])
def test_a_fact_drawn_from_skipped_probes_is_not_claimed(step: str, claim: str) -> None:
    assert_only_the_skip(walk_step(step, {}), claim)


def test_an_outside_target_from_the_guest_is_not_called_local_when_nothing_was_seen() -> None:
    ctx = walk_step("network.nat", {}, from_side="guest", target="203.0.113.254")
    assert_only_the_skip(ctx, "not beyond a routing host")


def test_the_skip_only_note_is_in_the_operators_language() -> None:
    note = walk_step("datalink.bridge_filter", {}, lang="zh").summary_note()
    assert note.startswith("已跳过：需要 CAP_SYS_ADMIN 权限"), note
    assert "网桥" not in note, note


# --- the premise was observed: the check's own reason stands ----------------------------------

@pytest.mark.parametrize(("step", "reason"), [
    ("datalink.bridge_filter", "the path crosses no bridge on the host"),
    ("network.nat", "the target is not beyond a routing host"),
    ("physical.cable", "no physical NIC without carrier on the path"),
    ("datalink.bridge_port", "the host end of the guest's link is not known"),
    ("platform.vmware", "no VMware Workstation networking on this host"),
    ("platform.virtualbox", "no VirtualBox host-only networking on this host"),
])
def test_a_fact_drawn_from_what_ran_keeps_its_reason(step: str, reason: str) -> None:
    ctx = walk_step(step, ROUTED_HOST, host=LOCAL, guest=None)
    assert ctx.status() == SKIP
    assert ctx.summary_note() == reason


# The same host with no route to the target (a host-only adapter that lost its address).
NO_ROUTE: Seen = {**ROUTED_HOST, ("route.lookup", str(LOCAL)): [
    RouteLookupRow("203.0.113.9", "unreachable", error="Network is unreachable")]}


@pytest.mark.parametrize(("step", "reason"), [
    ("physical.links", "no path interfaces known"),
    ("network.address", "no interface of the host leads to 203.0.113.9"),
    ("datalink.arp", "no next hop to resolve"),
])
def test_a_host_with_no_route_to_the_target_says_what_it_saw_and_passes_nothing(step: str, reason: str) -> None:
    """Not a pass ("up with carrier: no path interfaces known", "host ? on <dev>"): nothing on the
    path was checked. Seen, that is the note; with the host's probes skipped, only the skip."""
    ctx = walk_step(step, NO_ROUTE, host=LOCAL, guest=None, target="203.0.113.9")
    assert ctx.status() == SKIP
    assert ctx.summary_note() == reason
    unseen = walk_step(step, {}, host=LOCAL, guest=None, target="203.0.113.9")
    assert unseen.summary_note().startswith(f"skipped: {NEEDS} ("), unseen.summary_note()


def test_a_host_address_that_was_seen_is_still_a_pass() -> None:
    ctx = walk_step("network.address", ROUTED_HOST, host=LOCAL, guest=None)
    assert ctx.summary_note() == "host 198.18.0.1/24 on eth0" and ctx.status() == "pass"


def test_one_skipped_premise_among_seen_ones_is_enough_to_withhold_the_fact() -> None:
    """The host's route lookup ran, its link list did not: which interface is a bridge was not seen."""
    seen = {k: v for k, v in ROUTED_HOST.items() if k[0] != "link.list"}
    ctx = walk_step("datalink.bridge_filter", seen, host=LOCAL, guest=None)
    note = ctx.summary_note()
    assert note == f"skipped: {NEEDS} (link.list on local)", note


def test_a_plain_reason_that_is_no_conclusion_keeps_its_text() -> None:
    """``no --port given`` is a given of the request, not something a probe would have seen."""
    ctx = walk_step("transport.tcp", {})
    assert ctx.summary_note() == "no --port given"


# --- a finding whose premise was not seen --------------------------------------------------------

OUTSIDE = "203.0.113.254"
# The host of a bridged LAN (br0 holds the uplink eth0 and the guest's vnet0), IP forwarding
# off as in any new namespace: the guest reaches the outside peer through the bridge alone.
BRIDGED_HOST: Seen = {
    ("link.list", str(LOCAL)): [link("lo", kind="loopback", driver=""), link("br0", kind="bridge", driver="bridge"),
                                link("eth0", master="br0"), link("vnet0", kind="tun", driver="tun", master="br0")],
    ("addr.list", str(LOCAL)): [AddrRow("br0", "inet", "198.18.0.1", 24, "global")],
    ("route.lookup", str(LOCAL), OUTSIDE): [RouteLookupRow(OUTSIDE, "unicast", dev="br0", prefsrc="198.18.0.1")],
    ("route.lookup", str(LOCAL), "198.18.0.11"): [RouteLookupRow("198.18.0.11", "unicast", dev="br0",
                                                                 prefsrc="198.18.0.1")],
    ("sysctl.net", str(LOCAL)): [SysctlRow("net.ipv4.ip_forward", "0")],
}
# What the guest reports when it may be read: eth0 198.18.0.11, default route via the LAN's router.
GUEST_SEEN: Seen = {
    ("link.list", str(GUEST)): [link("lo", kind="loopback", driver=""), link("eth0", driver="virtio_net")],
    ("addr.list", str(GUEST)): [AddrRow("eth0", "inet", "198.18.0.11", 24, "global")],
    ("route.lookup", str(GUEST), OUTSIDE): [RouteLookupRow(OUTSIDE, "unicast", dev="eth0", gateway="198.18.0.254",
                                                           prefsrc="198.18.0.11")],
}


def test_ip_forwarding_is_not_blamed_when_nobody_saw_whether_the_host_routes_or_bridges() -> None:
    """The guest's side unseen: its host end, so the bridge it hangs on, is unknown, and the
    peer behind the same bridge needs no forwarding (firewall.br_netfilter_drop walked as nobody)."""
    ctx = walk_step("network.sysctl", BRIDGED_HOST, host=LOCAL, from_side="guest", target=OUTSIDE)
    assert [f.cause for f in ctx.findings] == [], ctx.summary_note()
    assert ctx.status() == SKIP and "needs CAP_SYS_ADMIN" in ctx.summary_note()


def test_with_the_path_seen_a_routing_host_without_forwarding_is_still_named() -> None:
    routed = {**BRIDGED_HOST, **GUEST_SEEN,
              ("route.lookup", str(LOCAL), OUTSIDE): [RouteLookupRow(OUTSIDE, "unicast", dev="eth0")]}
    ctx = walk_step("network.sysctl", routed, host=LOCAL, from_side="guest", target=OUTSIDE)
    assert [f.cause for f in ctx.findings] == ["sysctl.ip_forward_disabled"], ctx.summary_note()


# --- network.address with the guest visible: only what was compared ----------------------------

# The bridged host whose br0 holds no address (the LAN's router is the guest's gateway).
BARE_BRIDGE: Seen = {**BRIDGED_HOST, **GUEST_SEEN,
                     ("addr.list", str(LOCAL)): [AddrRow("lo", "inet", "127.0.0.1", 8, "host")],
                     ("route.lookup", str(LOCAL), OUTSIDE): [RouteLookupRow(OUTSIDE, "unreachable",
                                                                            error="Network is unreachable")]}
# A guest that may be read but shows no interface at all: the path names none in it.
NO_GUEST_END: Seen = {**ROUTED_HOST, ("link.list", str(GUEST)): [], ("addr.list", str(GUEST)): [],
                      ("route.lookup", str(GUEST)): []}


@pytest.mark.parametrize(("seen", "kw", "lang", "status", "note"), [
    (BARE_BRIDGE, {"from_side": "guest", "target": OUTSIDE}, "en", "pass",
     "guest 198.18.0.11/24 on eth0; not compared with the host's subnet: br0 on local has no IPv4 address"),
    (BARE_BRIDGE, {"from_side": "guest", "target": OUTSIDE}, "zh", "pass",
     "虚拟机 eth0 上的地址：198.18.0.11/24；未与宿主机的子网比对：local 上的 br0 没有 IPv4 地址"),
    (NO_GUEST_END, {}, "en", "pass",
     "host 198.18.0.1/24 on eth0; not compared with the guest's subnet: "
     "the path names no interface in netns:vnd-t-guest"),
    (NO_GUEST_END, {"from_side": "guest", "target": "198.18.0.1"}, "en", SKIP,
     "no addresses to compare: the path names no interface in netns:vnd-t-guest; "
     "the path names no interface of local"),
    (NO_GUEST_END, {"from_side": "guest", "target": "198.18.0.1"}, "zh", SKIP,
     "没有可比对的地址：路径上没有 netns:vnd-t-guest 中的接口；路径上没有 local 的接口"),
])
def test_a_visible_guest_whose_addresses_were_not_compared_is_not_called_fine(
    seen: Seen, kw: dict[str, str], lang: str, status: str, note: str
) -> None:
    """Was "addresses present": a pass no comparison was behind. Now the note names the end
    whose addresses were seen and why the other's were not compared, or skips for want of both."""
    ctx = walk_step("network.address", seen, host=LOCAL, lang=lang, **kw)
    assert (ctx.status(), ctx.summary_note()) == (status, note)
    assert "present" not in note and "share" not in note


def test_with_both_ends_seen_the_subnets_are_compared() -> None:
    ctx = walk_step("network.address", {**ROUTED_HOST, **GUEST_SEEN}, host=LOCAL)
    assert (ctx.status(), ctx.summary_note()) == ("pass", "guest 198.18.0.11/24 and host 198.18.0.1/24 share 198.18.0.0/24")


def test_a_guest_end_whose_addresses_were_not_read_is_only_the_skip() -> None:
    ctx = walk_step("network.address", ROUTED_HOST, host=LOCAL)
    assert (ctx.status(), ctx.summary_note()) == (SKIP, f"skipped: {NEEDS} (addr.list on netns:vnd-t-guest)")


def test_a_host_whose_addresses_were_not_read_is_not_said_to_have_none() -> None:
    """Seen under load in CI: the host's address list did not come back, and the walk named
    ip.no_address ("br0 on local has no IPv4 address") on the firewall scenario. A list that
    was not read says nothing about addresses; the step says what was not seen instead."""
    paired = {**BRIDGED_HOST, **GUEST_SEEN,  # the bridge learnt the guest's MAC on vnet0: the path is whole
              ("bridge.fdb", str(LOCAL)): [FdbRow("br0", "vnet0", "52:54:00:00:00:01")]}
    seen = {k: v for k, v in paired.items() if k != ("addr.list", str(LOCAL))}
    ctx = walk_step("network.address", seen, host=LOCAL)
    assert [f.cause for f in ctx.findings] == [], ctx.summary_note()
    assert "no IPv4" not in ctx.summary_note()
    assert ctx.summary_note() == f"skipped: {NEEDS} (addr.list on local)"
    # The same host with its addresses read and none on br0 is still named.
    bare = {**seen, ("addr.list", str(LOCAL)): [AddrRow("lo", "inet", "127.0.0.1", 8, "host")]}
    named = walk_step("network.address", bare, host=LOCAL)
    assert [f.cause for f in named.findings] == ["ip.no_address"]
