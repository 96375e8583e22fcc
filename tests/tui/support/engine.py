"""The TUI tests' scripted walk for the one fake engine, and a factory for the App.

The engine itself is ``tests.support.fake_engine.FakeEngine`` (re-exported here), shared
with the session-core unit tests. The walk is made of real row types
(``probes.rows``) and findings with real fixes: the guest firewall drops ping in a
lab-like topology.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from tests.support.fake_engine import FakeEngine

from vnetdoctor.knowledge.events import AskFn, EventSink
from vnetdoctor.knowledge.model import FAIL, PASS, SKIP, Diagnosis, Evidence, Finding, Fix, Question, Request, StepResult
from vnetdoctor.probes.base import OK, SKIPPED, Observation
from vnetdoctor.probes.rows import (
    AddrRow,
    BridgePortRow,
    FirewallRow,
    LinkRow,
    NeighRow,
    RouteRow,
    SysctlRow,
)
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.tui.kb import StepInfo
from vnetdoctor.tui.state import SessionState

HOST = Vantage("netns", "vnd-host")
GUEST = Vantage("netns", "vnd-guest")
TARGET = "198.18.0.11"
REQUEST = Request(target=TARGET, host=HOST, guest=GUEST, from_side="host", port=None, lang="en")
PATH = [(HOST, "br0"), (HOST, "vnet0"), (GUEST, "eth0")]

FIREWALL_FIX = Fix.of(
    ("ip", "netns", "exec", "vnd-guest", "nft", "delete", "rule", "inet", "filter", "input", "handle", "7"),
    ("ip", "netns", "exec", "vnd-guest", "nft", "add", "rule", "inet", "filter", "input",
     "icmp", "type", "echo-request", "drop"),
    risk="low",
    where="netns:vnd-guest",
)
FIREWALL_FIX_2 = Fix.of(
    ("ip", "netns", "exec", "vnd-guest", "nft", "flush", "chain", "inet", "filter", "input"),
    ("ip", "netns", "exec", "vnd-guest", "nft", "-f", "/root/ruleset-before.nft"),
    risk="high",
    where="netns:vnd-guest",
    note="removes every rule of the chain",
)
FIREWALL_FINDING = Finding(
    cause="firewall.guest_blocks",
    layer="network",
    summary="nftables in netns:vnd-guest drops ICMP echo requests (inet filter input, handle 7)",
    evidence=(
        Evidence("rule 'icmp type echo-request drop' counted 3 packets during the walk",
                 "firewall.rules", "netns:vnd-guest"),
        Evidence("echo request seen on vnet0 and on the guest's eth0, never answered", "capture", "netns:vnd-host"),
    ),
    fixes=(FIREWALL_FIX, FIREWALL_FIX_2),
)


def _obs(probe: str, vantage: Vantage, rows: Sequence[Any] = (), *, status: str = OK, reason: str = "",
         ms: float = 2.0, layer: str = "") -> Observation:
    return Observation(probe=probe, vantage=str(vantage), status=status, rows=tuple(rows), reason=reason,
                       duration_ms=ms, layer=layer)


def _links(vantage: Vantage) -> Observation:
    if vantage == HOST:
        rows = [
            LinkRow(1, "lo", "loopback", "UNKNOWN", True, True, 65536, ""),
            LinkRow(2, "br0", "bridge", "UP", True, True, 1500, "02:00:00:00:00:01"),
            LinkRow(3, "vnet0", "veth", "UP", True, True, 1500, "02:00:00:00:01:00", master="br0"),
        ]
    else:
        rows = [
            LinkRow(1, "lo", "loopback", "UNKNOWN", True, True, 65536, ""),
            LinkRow(2, "eth0", "veth", "UP", True, True, 1500, "02:00:00:00:00:02"),
        ]
    return _obs("link.list", vantage, rows, ms=1.4, layer="physical")


def scenario_results() -> list[StepResult]:
    """The guest-firewall walk, step by step, in walk order."""
    echo = [EchoRow(TARGET, seq, 0x1A2B, 56, False, None) for seq in (1, 2, 3)]
    firewall_rows = [
        FirewallRow("nftables", "inet", "filter", "input", hook="input", policy="accept", priority=0, handle=1),
        FirewallRow("nftables", "inet", "filter", "input", rule="ct state established,related accept",
                    verdict="accept", handle=5, packets=12, bytes=1008, position=0),
        FirewallRow("nftables", "inet", "filter", "input", rule="icmp type echo-request drop",
                    verdict="drop", handle=7, packets=3, bytes=252, position=1),
    ]
    return [
        StepResult("symptom.ping", "symptom", "Ping both ways", FAIL,
                   note="host → 198.18.0.11: 0 of 3 replies; guest → host: 3 of 3", duration_ms=1210,
                   observations=(_obs("icmp.echo", HOST, echo, ms=1003, layer="network"),)),
        StepResult("platform.libvirt", "platform", "libvirt: domain, network, interface, lease", SKIP,
                   note="not a libvirt guest"),
        StepResult("physical.guest_nic", "physical", "The guest's network interface", PASS,
                   note="eth0 is up with carrier", duration_ms=3,
                   observations=(_links(GUEST),)),
        StepResult("physical.links", "physical", "Host interfaces on the path", PASS,
                   note="br0 and vnet0 are up with carrier", duration_ms=3,
                   observations=(_links(HOST),)),
        StepResult("physical.cable", "physical", "Cable and link LEDs", SKIP,
                   note="not asked: every link on the path has carrier"),
        StepResult("datalink.bridge_port", "datalink", "Bridge membership and port state", PASS,
                   note="vnet0 is a forwarding port of br0", duration_ms=2,
                   observations=(_obs("bridge.ports", HOST, [BridgePortRow("br0", "vnet0", "forwarding")]),)),
        StepResult("datalink.arp", "datalink", "ARP and the neighbour table", PASS,
                   note="198.18.0.11 resolves to 02:00:00:00:00:02", duration_ms=2,
                   observations=(_obs("neigh.list", HOST, [NeighRow("br0", TARGET, "02:00:00:00:00:02",
                                                                     "REACHABLE")]),)),
        StepResult("network.address", "network", "IP addresses and subnets", PASS,
                   note="198.18.0.1/24 and 198.18.0.11/24 share a subnet", duration_ms=2,
                   observations=(
                       _obs("addr.list", HOST, [AddrRow("br0", "inet", "198.18.0.1", 24, "global")]),
                       _obs("addr.list", GUEST, [AddrRow("eth0", "inet", TARGET, 24, "global")]),
                   )),
        StepResult("network.route", "network", "Routing table", PASS, note="both ends route to each other",
                   duration_ms=2,
                   observations=(_obs("route.list", GUEST, [
                       RouteRow("198.18.0.0/24", dev="eth0", prefsrc=TARGET, protocol="kernel", scope="link"),
                       RouteRow("default", gateway="198.18.0.1", dev="eth0", protocol="static"),
                   ]),)),
        StepResult("network.sysctl", "network", "Kernel switches (sysctl)", PASS,
                   note="icmp_echo_ignore_all=0, rp_filter=0", duration_ms=1,
                   observations=(_obs("sysctl.net", GUEST, [
                       SysctlRow("net.ipv4.icmp_echo_ignore_all", "0"),
                       SysctlRow("net.ipv4.conf.all.rp_filter", "0"),
                   ]),)),
        StepResult("network.firewall", "network", "Firewall rules", FAIL,
                   note="a DROP rule in the guest matched our echo requests", duration_ms=41,
                   observations=(
                       _obs("firewall.rules", GUEST, firewall_rows, ms=38),
                       _obs("firewall.rules", HOST, [], status=SKIPPED, reason="needs the nft command"),
                   ),
                   findings=(FIREWALL_FINDING,)),
        StepResult("transport.tcp", "transport", "TCP port", SKIP, note="no TCP port chosen (set one on the Start screen)"),
        StepResult("application.dns", "application", "Name resolution", SKIP,
                   note="not needed: firewall.guest_blocks already explains the failure"),
    ]


# What the real engine would title the steps in Chinese (the plan comes in the request's language).
ZH_TITLES = {
    "symptom.ping": "双向 ping 测试",
    "platform.libvirt": "libvirt：虚拟机、网络、网卡与租约",
    "physical.guest_nic": "虚拟机网卡",
    "physical.links": "宿主机路径上的接口",
    "physical.cable": "网线与网口指示灯",
    "datalink.bridge_port": "网桥成员与端口状态",
    "datalink.arp": "ARP 解析与邻居表",
    "network.address": "IP 地址与子网",
    "network.route": "路由表",
    "network.sysctl": "内核参数（sysctl）",
    "network.firewall": "防火墙规则",
    "transport.tcp": "TCP 端口",
    "application.dns": "域名解析",
}


def with_fix(fix: Fix) -> Callable[[], list[StepResult]]:
    """``results`` for make_app: the walk with ``fix`` as the firewall finding's only fix."""

    def results() -> list[StepResult]:
        out = scenario_results()
        for i, r in enumerate(out):
            if r.step == "network.firewall":
                out[i] = replace(r, findings=(replace(r.findings[0], fixes=(fix,)),))
        return out

    return results


def in_language(results: list[StepResult], lang: str) -> list[StepResult]:
    if lang != "zh":
        return results
    return [replace(r, title=ZH_TITLES.get(r.step, r.title)) for r in results]


QUESTION_STEP = "physical.cable"
QUESTION = Question(QUESTION_STEP, "Is the link LED of the host's uplink port lit?", ("yes", "no", "unknown"))

# The flowchart's longest question (8 answers, long labels): the one that did not fit 80 columns.
CONSOLE_STEP = "application.guest_console"


def console_question(lang: str = "en") -> Question:
    """The guest-console question exactly as the engine asks it (text and choices from flowchart.toml)."""
    from vnetdoctor.knowledge import flowchart

    return flowchart.step(CONSOLE_STEP).as_question(lang)


def with_console_step() -> list[StepResult]:
    """The scenario plus the guest-console step at the end, so the fake engine asks it."""
    return [*scenario_results(),
            StepResult(CONSOLE_STEP, "application", "Guest console", SKIP, note="not asked")]


def fake_knowledge() -> Any:
    """Fixed step texts and cause titles: snapshots do not change when the real wording does."""

    class FixtureKnowledge:
        steps: ClassVar[dict[str, dict[str, StepInfo]]] = {
            "symptom.ping": {
                "en": StepInfo("Ping both ways",
                               "First pin the symptom down: ping from the host to the guest and back, "
                               "and note which direction fails and how.",
                               ("ping -c 3 -W 1 198.18.0.11", "ip neigh show 198.18.0.11")),
                "zh": StepInfo("双向 ping 测试", "先把现象确认清楚：从宿主机 ping 虚拟机，再反过来，记下哪个方向不通。",
                               ("ping -c 3 -W 1 198.18.0.11", "ip neigh show 198.18.0.11")),
            },
            "network.firewall": {
                "en": StepInfo("Firewall rules",
                               "A DROP or REJECT rule on either end, or on the way, stops the ping even "
                               "when everything below is fine. Counters that move while we ping name the rule.",
                               ("nft list ruleset", "iptables-save -c")),
                "zh": StepInfo("防火墙规则", "任意一端或途中的 DROP/REJECT 规则都会让 ping 不通；ping 时计数增加的规则就是元凶。",
                               ("nft list ruleset", "iptables-save -c")),
            },
        }
        causes: ClassVar[dict[str, dict[str, str]]] = {
            "firewall.guest_blocks": {"en": "The guest's firewall drops the traffic", "zh": "虚拟机防火墙丢弃了流量"},
        }

        def step_info(self, step_id: str, lang: str, values: Any = None) -> StepInfo | None:
            entry = self.steps.get(step_id)
            return entry.get(lang) or entry["en"] if entry else None

        def cause_title(self, cause: str, lang: str) -> str:
            entry = self.causes.get(cause)
            return (entry.get(lang) or entry["en"]) if entry else ""

    return FixtureKnowledge()


@dataclass
class FakeDeps:
    """What a test wants to look at after the App ran: the engines it built, the store's record."""

    engines: list[FakeEngine] = field(default_factory=list)


class MemoryStore:
    """The session store's recording interface, in memory (the real one is tested in unit tests)."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def start_session(self, request: Request, *, source: str, scenario: str | None = None) -> str:
        with self.lock:
            sid = f"s{len(self.sessions) + 1}"
            self.sessions[sid] = {"request": request, "source": source, "scenario": scenario,
                                  "steps": [], "events": [], "diagnosis": None}
            return sid

    def record_step(self, session_id: str, step: StepResult) -> None:
        with self.lock:
            self.sessions[session_id]["steps"].append(step)

    def record_event(self, session_id: str, kind: str, detail: Mapping[str, Any]) -> None:
        with self.lock:
            self.sessions[session_id]["events"].append((kind, dict(detail)))

    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None:
        with self.lock:
            self.sessions[session_id]["diagnosis"] = diagnosis


def make_app(
    *,
    lang: str = "en",
    request: Request | None = REQUEST,
    allow_changes: bool = False,
    replay: bool = False,
    autorun: bool | None = None,  # None: the App's own default (the whole walk), as production runs it
    question: Question | None = None,
    gates: Mapping[str, threading.Event] | None = None,
    busy_ms: float = 0.0,
    recorder: Any = None,
    discover_fn: Callable[[], tuple[list[Any], list[str]]] | None = None,
    engine_factory: Any = None,
    keymap: dict[str, str] | None = None,
    fixed_results: dict[str, StepResult] | None = None,
    results: Callable[[], list[StepResult]] = scenario_results,
    store: Any = None,
) -> tuple[Any, FakeDeps]:
    """The App as the commands build it (``tui.launch.build_app``), with the fake engine behind it."""
    from vnetdoctor.tui.launch import build_app

    deps = FakeDeps()
    if request is not None and request.lang != lang:
        request = replace(request, lang=lang)

    def factory(req: Request, ask: AskFn, on_event: EventSink) -> FakeEngine:
        engine = FakeEngine(req, in_language(results(), req.lang), ask=ask, on_event=on_event, question=question,
                            gates=gates or {}, busy_ms=busy_ms, fixed_results=dict(fixed_results or {}), points=PATH,
                            target=TARGET)
        deps.engines.append(engine)
        return engine

    state = SessionState(request=request, lang=lang, allow_changes=allow_changes, replay=replay, store=store,
                         scenario="firewall.guest_blocks" if request is not None else None)
    app = build_app(state, engine_factory or factory, knowledge=fake_knowledge(), recorder=recorder,
                    **({} if autorun is None else {"autorun": autorun}), keymap=keymap,
                    discover_fn=discover_fn or (lambda: ([], [])))
    return app, deps
