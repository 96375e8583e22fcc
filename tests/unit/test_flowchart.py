"""The flowchart: the fixed step ids in walk order, bilingual text from the usual
checklist, every cause named by exactly one step, and question nodes whose every
answer leads to a known cause or to guidance."""

from __future__ import annotations

import re
import string

import pytest

from vnetdoctor.knowledge import catalog, flowchart
from vnetdoctor.knowledge.model import Question
from vnetdoctor.knowledge.text import punctuation_slips

# Fixed: the engine implements a check for each of these ids.
STEP_IDS = [
    "symptom.ping",
    "platform.libvirt",
    "platform.vmware",
    "platform.virtualbox",
    "platform.hypervisor_settings",
    "physical.guest_nic",
    "physical.links",
    "physical.cable",
    "datalink.bridge_port",
    "datalink.bridge_filter",
    "datalink.mtu",
    "datalink.arp",
    "network.address",
    "network.route",
    "network.sysctl",
    "network.firewall",
    "network.nat",
    "transport.tcp",
    "application.dns",
    "application.guest_console",
]
QUESTIONS = {"platform.hypervisor_settings", "physical.cable", "application.guest_console"}
CJK = re.compile(r"[\u4e00-\u9fff]")
STEPS = flowchart.steps()


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def test_steps_are_the_fixed_ids_in_walk_order() -> None:
    assert [s.id for s in STEPS] == STEP_IDS
    assert flowchart.LAYER_ORDER == ("symptom", "platform", "physical", "datalink", "network", "transport", "application")
    ranks = [flowchart.LAYER_ORDER.index(s.layer) for s in STEPS]
    assert ranks == sorted(ranks)
    assert {s.layer for s in STEPS} == set(flowchart.LAYER_ORDER)
    for s in STEPS:
        assert s.id.split(".")[0] == s.layer


def test_step_lookup() -> None:
    assert flowchart.step("datalink.mtu").causes == ("mtu.mismatch",)
    assert flowchart.step_for_cause("firewall.br_netfilter_drop").id == "network.firewall"
    assert [s.id for s in flowchart.steps_in("transport")] == ["transport.tcp"]
    with pytest.raises(KeyError):
        flowchart.step("datalink.nonsense")


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_every_step_speaks_both_languages(step: flowchart.Step) -> None:
    for name in ("title", "explain"):
        en, zh = getattr(step, name)("en"), getattr(step, name)("zh")
        assert en and zh and en != zh, f"{step.id}: {name}"
        assert CJK.search(zh) and not CJK.search(en)
        assert "{" not in en + zh
        assert punctuation_slips(zh) == [], punctuation_slips(zh)
    assert len(step.explain("en")) > 120, "explain why, not just what"


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_by_hand_commands_are_real_and_render(step: flowchart.Step) -> None:
    assert step.by_hand
    allowed = catalog.PLACEHOLDERS | {"where"}
    for command in step.by_hand:
        assert fields(command) <= allowed, command
    values = {name: f"<{name}>" for name in allowed}
    values.update(target="198.18.0.11", port="vnet0", dev="eth0", uplink="eth1", bridge="br0")
    rendered = step.by_hand_commands(**values)
    assert len(rendered) == len(step.by_hand)
    assert all("{" not in r for r in rendered if "awk" not in r)
    assert step.by_hand_commands() == tuple(re.sub(r"\{(\w+)\}", r"<\1>", c) for c in step.by_hand)


def test_by_hand_covers_the_usual_commands() -> None:
    everything = " ; ".join(c for s in STEPS for c in s.by_hand)
    for command in ("ip -br link", "ethtool -S", "brctl show", "bridge link", "arp -n", "ip neigh",
                 "tcpdump", "iptables -L -n -v", "nft", "virsh domifaddr", "virsh net-list --all",
                 "telnet", "ip route", "lspci", "ss -tlnp", "nslookup"):
        assert command in everything, command


def test_every_cause_is_named_by_exactly_one_step() -> None:
    named: dict[str, list[str]] = {}
    for s in STEPS:
        for cause in s.causes:
            named.setdefault(cause, []).append(s.id)
    all_ids = {c.id for c in catalog.all_causes()}
    assert set(named) == all_ids
    assert {c: ids for c, ids in named.items() if len(ids) != 1} == {}


def test_a_step_names_causes_of_its_own_layer() -> None:
    """...or of "any" layer: the kernel's word on the symptom's pings, named by that step."""
    for s in STEPS:
        for cause in s.causes:
            layer = catalog.get_cause(cause).layer
            assert layer == s.layer or (layer == "any" and s.id == "symptom.ping"), (s.id, cause)


def test_questions_are_exactly_the_three_blind_spots() -> None:
    assert {s.id for s in flowchart.questions()} == QUESTIONS
    for s in STEPS:
        if s.id not in QUESTIONS:
            assert s.kind == "probe" and not s.choices and s.question_text is None
            assert s.causes or s.id == "symptom.ping"


@pytest.mark.parametrize("step", flowchart.questions(), ids=lambda s: s.id)
def test_question_answers_lead_somewhere(step: flowchart.Step) -> None:
    assert step.kind == "question" and step.ask_when in flowchart.ASK_WHEN
    assert len(step.choices) >= 2 and "unknown" in step.choices
    for lang in ("en", "zh"):
        assert step.question(lang).strip()
    assert CJK.search(step.question("zh"))
    known = {c.id for c in catalog.all_causes()}
    for choice in step.choices:
        answer = step.answer(choice)
        assert answer.status in ("pass", "warn", "fail", "skip")
        assert answer.cause is None or answer.cause in known
        assert answer.cause is not None or (answer.guidance("en") and CJK.search(answer.guidance("zh")))
        if answer.guidance("en"):
            assert CJK.search(answer.guidance("zh")), (step.id, choice)
            assert punctuation_slips(answer.guidance("zh")) == []
        assert answer.label("en") and CJK.search(answer.label("zh")), (step.id, choice)
    assert any(step.answer(c).status == "fail" for c in step.choices), "some answer must find a problem"


def test_guest_console_answers_map_to_the_guest_side_causes() -> None:
    step = flowchart.step("application.guest_console")
    confirmed = {step.answer(c).cause for c in step.choices} - {None}
    assert confirmed == {"guest.no_nic", "link.guest_if_down", "ip.no_address", "ip.subnet_mismatch",
                         "route.missing", "firewall.guest_blocks"}


def test_cable_question_is_about_the_uplink() -> None:
    step = flowchart.step("physical.cable")
    assert step.ask_when == "uplink_no_carrier"
    assert step.question("en", uplink="eth1").startswith("eth1 has no carrier")
    assert step.question("zh", uplink="eth1").startswith("eth1 没有载波")
    assert step.answer("no").cause == "link.host_if_down"
    assert step.on_answer == {"yes": "", "no": "link.host_if_down", "unknown": ""}
    question = step.as_question("zh", uplink="eth1")
    assert isinstance(question, Question) and question.step == "physical.cable"
    assert question.choices == ("yes", "no", "unknown")


# ---------------------------------------------------------------------------- validation

GOOD = """
[[step]]
id = "network.a"
layer = "network"
kind = "probe"
causes = ["c.one"]
title = { en = "A", zh = "甲" }
explain = { en = "why", zh = "原因" }
by_hand = ["ip route"]

[[step]]
id = "application.q"
layer = "application"
kind = "question"
causes = ["c.two"]
title = { en = "Q", zh = "问" }
explain = { en = "why", zh = "原因" }
by_hand = ["ip addr"]
question = { en = "Is {dev} up?", zh = "{dev} 启用了吗？" }
choices = ["yes", "no"]
[step.on_answer.yes]
status = "pass"
guidance = { en = "fine", zh = "好" }
[step.on_answer.no]
status = "fail"
cause = "c.two"
"""
KNOWN = frozenset({"c.one", "c.two"})


def test_parse_flowchart_accepts_good_data() -> None:
    steps = flowchart.parse_flowchart(GOOD, KNOWN)
    assert [s.id for s in steps] == ["network.a", "application.q"]
    assert steps[1].question("zh", dev="eth0") == "eth0 启用了吗？"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('causes = ["c.one"]', 'causes = ["c.nine"]', "unknown cause"),
        ('causes = ["c.one"]', 'causes = ["c.two"]', "more than one step"),
        ('causes = ["c.one"]', "causes = []", "named by no step"),
        ('choices = ["yes", "no"]', 'choices = ["yes", "no", "maybe"]', "on_answer covers"),
        ('cause = "c.two"\n', "", "cause or guidance"),
        ('status = "pass"', 'status = "great"', "status"),
        ('id = "application.q"\nlayer = "application"', 'id = "platform.q"\nlayer = "platform"', "walk order"),
        ('kind = "probe"', 'kind = "guess"', "kind"),
        ('by_hand = ["ip route"]', "by_hand = []", "by_hand"),
        ('by_hand = ["ip route"]', 'by_hand = ["ip route get {nonsense}"]', "nonsense"),
        ('zh = "原因" }\nby_hand = ["ip route"]', 'zh = "" }\nby_hand = ["ip route"]', "empty"),
        ('[step.on_answer.no]\nstatus = "fail"', '[step.on_answer.no]\nstatus = "warn"', "status fail"),
    ],
)
def test_parse_flowchart_rejects_bad_data(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(flowchart.FlowchartError, match=message):
        flowchart.parse_flowchart(GOOD.replace(old, new), KNOWN)
