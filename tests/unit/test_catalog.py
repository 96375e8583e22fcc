"""The cause catalogue: ids exactly as the public contract says, complete bilingual
text, fixes that are one real command each with a real undo, and templates that
only use the engine's vocabulary and render strictly in tests, leniently in use."""

from __future__ import annotations

import os
import re
import shlex
import string
from pathlib import Path

import pytest

from vnetdoctor.knowledge import catalog, catalog_templates
from vnetdoctor.knowledge.model import Fix
from vnetdoctor.knowledge.text import punctuation_slips

# The ids of causes.md with their layers. Kept here so the test works without the
# shared design directory; test_causes_md_agrees checks the two agree when it exists.
EMBEDDED: dict[str, str] = {
    "link.host_if_down": "physical",
    "link.guest_if_down": "physical",
    "guest.no_nic": "physical",
    "bridge.port_detached": "datalink",
    "bridge.port_blocking": "datalink",
    "bridge.flood_disabled": "datalink",
    "firewall.bridge_filter": "datalink",
    "vlan.mismatch": "datalink",
    "mtu.mismatch": "datalink",
    "mac.duplicate": "datalink",
    "arp.suppressed": "datalink",
    "arp.unresolved": "datalink",
    "ip.no_address": "network",
    "ip.subnet_mismatch": "network",
    "ip.duplicate": "network",
    "route.missing": "network",
    "route.wrong_gateway": "network",
    "route.rp_filter": "network",
    "sysctl.icmp_echo_ignored": "network",
    "sysctl.ip_forward_disabled": "network",
    "firewall.host_blocks": "network",
    "firewall.guest_blocks": "network",
    "firewall.forward_blocks": "network",
    "firewall.br_netfilter_drop": "network",
    "nat.masquerade_missing": "network",
    "tcp.port_closed": "transport",
    "tcp.port_filtered": "transport",
    "dns.unresolvable": "application",
    "libvirt.network_inactive": "platform",
    "libvirt.domain_not_running": "platform",
    "libvirt.interface_link_down": "platform",
    "libvirt.dhcp_no_lease": "platform",
    "vmware.vmnet_down": "platform",
    "virtualbox.hostonly_down": "platform",
}

ALLOWED = {
    "dev", "bridge", "port", "ip", "prefixlen", "peer_ip", "gateway", "target", "subnet", "mac",
    "mtu", "size", "value", "sysctl", "family", "table", "chain", "handle", "rule", "tcp_port",
    "network", "domain", "iface", "uplink", "resolver", "service",
}
CAUSES_MD = Path(__file__).resolve().parents[2].parent / "shared" / "design" / "causes.md"
CJK = re.compile(r"[\u4e00-\u9fff]")

# A plausible value for every placeholder, so rendered commands can be checked.
SAMPLE = {
    "dev": "eth0", "bridge": "br0", "port": "vnet0", "ip": "198.18.0.11", "prefixlen": "24",
    "peer_ip": "198.18.0.1", "gateway": "198.18.0.1", "target": "198.18.0.11",
    "subnet": "198.18.0.0/24", "mac": "52:54:00:12:34:56", "mtu": "1500", "size": "1472",
    "value": "1", "sysctl": "net.ipv4.conf.all.rp_filter", "family": "inet", "table": "filter",
    "chain": "input", "handle": "7", "tcp_port": "22",
    "rule": catalog.Words("icmp type echo-request drop", ("icmp", "type", "echo-request", "drop")),
    "network": "default", "domain": "guest1", "iface": "vnet0", "uplink": "eth1",
    "resolver": "198.18.0.1", "service": "ssh",
}


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def parse_causes_md(text: str) -> dict[str, str]:
    rows = re.findall(r"^\|\s*`([a-z0-9_.]+)`\s*\|\s*([a-z]+)\s*\|", text, flags=re.MULTILINE)
    return dict(rows)


# ---------------------------------------------------------------------------- ids


# Ids causes.md announces for open issues that the catalogue does not name yet. An id
# leaves this list in the commit that adds it to the catalogue (then it is in ADDED).
PLANNED: dict[str, str] = {
}


def test_embedded_list_agrees_with_causes_md() -> None:
    """causes.md is the contract: every id it lists is in the catalogue or planned, with its layer."""
    if not CAUSES_MD.exists():
        pytest.skip(f"{CAUSES_MD} not present: the embedded list stands alone")
    documented = parse_causes_md(CAUSES_MD.read_text(encoding="utf-8"))
    assert documented == {**EMBEDDED, **{k: v for k, v in {**ADDED, **PLANNED}.items() if k in documented}}
    assert set(EMBEDDED) <= set(documented)
    assert set(PLANNED) <= set(documented), "a planned id is no longer in causes.md"
    assert not set(PLANNED) & {c.id for c in catalog.all_causes()}, "implemented: move it from PLANNED to ADDED"


# Ids added beyond causes.md ("add new ids freely; never rename or reuse one").
ADDED: dict[str, str] = {
    "libvirt.macvtap_isolation": "platform",
    "kernel.drop_unexplained": "any",  # issue 12: the kernel's drop reasons
    "libvirt.nwfilter_blocks": "platform",  # issue 11: real libvirtd
    "libvirt.nat_inbound": "platform",  # issue 11: NAT networks are closed from outside
}


def test_catalogue_has_exactly_the_contract_ids_and_layers() -> None:
    got = {c.id: c.layer for c in catalog.all_causes()}
    assert got == {**EMBEDDED, **ADDED}
    assert not set(ADDED) & set(EMBEDDED)
    assert len(catalog.all_causes()) == len(EMBEDDED) + len(ADDED) == 38


def test_catalogue_is_in_walk_order_of_layers() -> None:
    ranks = [catalog.CATALOG_LAYERS.index(c.layer) for c in catalog.all_causes()]
    assert ranks == sorted(ranks)
    assert list(catalog.causes_by_layer()) == list(catalog.CATALOG_LAYERS)
    assert catalog.CATALOG_LAYERS[-1] == "any"  # a cause no one layer's check finds comes last


def test_get_cause_and_unknown_ids() -> None:
    assert catalog.get_cause("mtu.mismatch").layer == "datalink"
    with pytest.raises(KeyError, match=r"no\.such"):
        catalog.get_cause("no.such")


# ---------------------------------------------------------------------------- text


@pytest.mark.parametrize("cause", catalog.all_causes(), ids=lambda c: c.id)
def test_every_text_exists_in_both_languages(cause: catalog.Cause) -> None:
    for name in ("title", "explanation", "proof", "summary_template"):
        en, zh = getattr(cause, name)("en"), getattr(cause, name)("zh")
        assert en.strip() and zh.strip(), f"{cause.id}: {name}"
        assert en != zh, f"{cause.id}: {name} is not translated"
        assert CJK.search(zh), f"{cause.id}: {name} zh has no Chinese"
        assert not CJK.search(en), f"{cause.id}: {name} en has Chinese"
    for fix in cause.fixes:
        assert fix.note("en").strip() and CJK.search(fix.note("zh")), f"{cause.id}: {fix.command}"
    if cause.lab != "yes":
        assert cause.lab_note("en") and CJK.search(cause.lab_note("zh")), f"{cause.id}: say why the lab does not"


@pytest.mark.parametrize("cause", catalog.all_causes(), ids=lambda c: c.id)
def test_static_texts_are_not_templates_and_titles_are_one_line(cause: catalog.Cause) -> None:
    for lang in ("en", "zh"):
        for text in (cause.title(lang), cause.explanation(lang), cause.proof(lang)):
            assert "{" not in text and "}" not in text, f"{cause.id}: {text[:40]}"
        assert "\n" not in cause.title(lang) and "\n" not in cause.summary_template(lang)


def test_explanations_say_which_direction_breaks() -> None:
    words = ("direction", "one-way", "one way", "both", "beyond", "either", "guest to host", "host to guest")
    for cause in catalog.all_causes():
        text = cause.explanation("en").lower()
        if cause.layer in ("transport", "application"):
            continue  # ports and names: direction is the client's, by nature
        assert any(w in text for w in words), f"{cause.id}: explanation does not say which direction breaks"


def test_chinese_uses_chinese_punctuation() -> None:
    slips = []
    for cause in catalog.all_causes():
        texts = [cause.title("zh"), cause.explanation("zh"), cause.proof("zh"), cause.summary_template("zh"),
                 cause.lab_note("zh"), *(f.note("zh") for f in cause.fixes)]
        slips += [f"{cause.id}: {s!r}" for text in texts for s in punctuation_slips(text)]
    assert slips == []


def test_prose_joins_lines_the_chinese_way() -> None:
    assert catalog.join_lines("网桥\n端口") == "网桥端口"
    assert catalog.join_lines("the\nbridge") == "the bridge"
    assert catalog.join_lines("看\n`ip link`") == "看 `ip link`"
    assert catalog.join_lines("不通；\n`arp`") == "不通；`arp`"
    assert catalog.join_lines("one\n\ntwo") == "one\ntwo"


# ---------------------------------------------------------------------------- fixes


@pytest.mark.parametrize("cause", catalog.all_causes(), ids=lambda c: c.id)
def test_every_cause_has_fixes_with_undo_and_honest_risk(cause: catalog.Cause) -> None:
    assert cause.fixes, cause.id
    for fix in cause.fixes:
        assert fix.command.strip() and fix.undo.strip()
        assert fix.undo != fix.command
        assert fix.risk in ("low", "medium", "high")
        assert fix.when == "" or re.fullmatch(r"[a-z_]+=[a-z0-9_.-]+", fix.when), fix.when


def test_risks_are_graded_honestly() -> None:
    fixes = [f for c in catalog.all_causes() for f in c.fixes]
    assert {f.risk for f in fixes} == {"low", "medium", "high"}
    for fix in fixes:
        if re.search(r" -P \S+ ACCEPT$", fix.command):  # opening a whole chain's policy
            assert fix.risk == "high", fix.command
        if re.fullmatch(r"ip link set dev \{\w+\} up", fix.command):
            assert fix.risk == "low", fix.command
        if fix.command.startswith("nft delete rule") or (" -D " in fix.command and "iptables" in fix.command):
            assert fix.risk != "low", f"removing a firewall rule is not low risk: {fix.command}"


@pytest.mark.parametrize("cause", catalog.all_causes(), ids=lambda c: c.id)
def test_templates_use_only_the_vocabulary(cause: catalog.Cause) -> None:
    summary_allowed = ALLOWED | {"where", "state", "other"}
    for lang in ("en", "zh"):
        assert fields(cause.summary_template(lang)) <= summary_allowed
    for fix in cause.fixes:
        used = fields(fix.command) | fields(fix.undo)
        assert used <= ALLOWED, f"{cause.id}: {sorted(used - ALLOWED)}"
        for lang in ("en", "zh"):
            assert fields(fix.note(lang)) <= used, f"{cause.id}: note uses what the command does not"
    assert catalog.PLACEHOLDERS == ALLOWED


@pytest.mark.parametrize("cause", catalog.all_causes(), ids=lambda c: c.id)
def test_templates_render_with_every_placeholder_supplied(cause: catalog.Cause) -> None:
    values = dict(SAMPLE, where="netns:vnd-host", state="DOWN", other="vnet1")
    for lang in ("en", "zh"):
        summary = catalog.render_summary(cause.id, lang, strict=True, **values)
        assert "<" not in re.sub(r"<link state='down'/>", "", summary) and "{" not in summary
        for fix in cause.fixes:
            fix_values = {k: v for k, v in values.items() if k != "where"}
            rendered = catalog.render_fix(fix, lang, where="netns:vnd-guest", strict=True, **fix_values)
            assert isinstance(rendered, Fix) and rendered.runnable, rendered
            # What is shown is what runs, and it reads as the template does.
            assert shlex.split(rendered.command) == list(rendered.argv) == shlex.split(fix.command.format(**values))
            if fix.undo == catalog_templates.NO_UNDO:  # the note says what brings the old state back
                assert rendered.undo == "" and rendered.undo_argv == () and fix.risk != "low"
            else:
                assert shlex.split(rendered.undo) == list(rendered.undo_argv) == shlex.split(fix.undo.format(**values))
            assert rendered.risk == fix.risk and rendered.where == "netns:vnd-guest"
            for command in filter(None, (rendered.command, rendered.undo)):
                assert catalog.is_one_command(command), command
                assert shlex.split(command)[0] in KNOWN_TOOLS, command


KNOWN_TOOLS = {
    "ip", "bridge", "sysctl", "nft", "iptables", "iptables-legacy", "ebtables", "virsh", "modprobe",
    "dhclient", "udhcpc", "powershell.exe", "nmcli", "vmware-networks", "firewall-cmd", "ufw", "systemctl", "resolvectl", "sed",
    "tc",
}


def test_fix_placeholders_cover_what_rules_must_supply() -> None:
    cause = catalog.get_cause("firewall.host_blocks")
    assert {"family", "table", "chain", "handle", "rule"} <= cause.fix_fields
    assert catalog.get_cause("link.host_if_down").summary_fields == {"dev", "state", "where"}


# ---------------------------------------------------------------------------- rendering modes


def test_missing_placeholder_fails_loudly_in_strict_mode() -> None:
    fix = catalog.get_cause("link.host_if_down").fixes[0]
    with pytest.raises(catalog.TemplateError, match=r"\{dev\}") as info:
        catalog.render_fix(fix, "en", strict=True)
    assert info.value.name == "dev"
    with pytest.raises(catalog.TemplateError, match=r"\{state\}"):
        catalog.render_summary("link.host_if_down", "en", strict=True, dev="vnet0", where="host")


def test_missing_placeholder_makes_guidance_in_production() -> None:
    fix = catalog.get_cause("link.host_if_down").fixes[0]
    rendered = catalog.render_fix(fix, "en", strict=False)
    assert not rendered.runnable and rendered.missing == ("dev",)
    assert rendered.command == rendered.undo == "" and rendered.argv == ()
    assert catalog.guidance_text(rendered, "en") == "guidance — needs: interface name"
    assert catalog.guidance_text(rendered, "zh") == "仅供参考——缺少：网卡名"
    summary = catalog.render_summary("link.host_if_down", "zh", strict=False, dev="vnet0", where="宿主机")
    assert summary == "宿主机 上的 vnet0 处于 <state> 状态"


def test_none_and_empty_values_show_as_names_not_gaps() -> None:
    summary = catalog.render_summary("link.host_if_down", "en", strict=True, dev=None, state="", where="host")
    assert summary == "<dev> is <state> on host"


def test_extra_values_are_ignored() -> None:
    fix = catalog.get_cause("link.host_if_down").fixes[0]
    assert catalog.render_fix(fix, strict=True, dev="br0", unrelated="x").command == "ip link set dev br0 up"


def test_unknown_cause_summary_strict_raises_lenient_names_it() -> None:
    with pytest.raises(KeyError):
        catalog.render_summary("no.such", strict=True)
    assert catalog.render_summary("no.such", strict=False) == "no.such"


def test_strict_only_when_the_setting_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    assert catalog.strict_default() is True  # tests/conftest.py sets VNETDOCTOR_STRICT_TEMPLATES=1
    fix = catalog.get_cause("link.host_if_down").fixes[0]
    with pytest.raises(catalog.TemplateError):
        catalog.render_fix(fix)
    monkeypatch.setenv("VNETDOCTOR_STRICT_TEMPLATES", "0")
    assert catalog.render_fix(fix).missing == ("dev",)
    monkeypatch.delenv("VNETDOCTOR_STRICT_TEMPLATES")
    assert "PYTEST_CURRENT_TEST" in os.environ  # running under pytest decides nothing
    assert catalog.strict_default() is False
    monkeypatch.setenv("VNETDOCTOR_STRICT_TEMPLATES", "1")
    assert catalog.strict_default() is True


def test_escaped_braces_survive_rendering() -> None:
    fix = next(f for f in catalog.get_cause("nat.masquerade_missing").fixes if f.when == "backend=nft")
    command = catalog.render_fix(fix, strict=True, subnet="198.18.0.0/24", uplink="eth1").command
    assert "{ type nat hook postrouting priority 100; }" in command
    assert shlex.split(command)[0] == "nft" and len(shlex.split(command)) == 2


def test_to_dict_carries_everything_in_one_language() -> None:
    data = catalog.get_cause("mtu.mismatch").to_dict("zh")
    assert set(data) == {"id", "layer", "title", "explanation", "proof", "summary", "lab", "lab_note", "fixes"}
    assert CJK.search(data["title"]) and data["fixes"][0]["command"] == "ip link set dev {dev} mtu {mtu}"
    assert set(data["fixes"][0]) == {"command", "undo", "risk", "note", "when"}


# ---------------------------------------------------------------------------- validation


def test_is_one_command() -> None:
    assert catalog.is_one_command("ip link set eth0 up")
    assert catalog.is_one_command("iptables -A X ! -d 198.18.0.0/24 -j ACCEPT")
    assert catalog.is_one_command("nft 'add table ip t; add chain ip t c { type nat hook postrouting priority 100; }'")
    for bad in ("a && b", "a | b", "a; b", "a > /tmp/x", "echo $(id)", "echo `id`", "a &", "unbalanced 'quote"):
        assert not catalog.is_one_command(bad), bad


GOOD = """
[[cause]]
id = "x.y"
layer = "network"
lab = "yes"
title = { en = "T", zh = "标题" }
explanation = { en = "E", zh = "解释" }
proof = { en = "P", zh = "证据" }
summary = { en = "{dev} is down", zh = "{dev} 已关闭" }
[[cause.fixes]]
command = "ip link set {dev} up"
undo = "ip link set {dev} down"
risk = "low"
note = { en = "n", zh = "注" }
"""


def test_parse_catalog_accepts_good_data() -> None:
    assert list(catalog.parse_catalog(GOOD)) == ["x.y"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"ip link set {dev} up"', '"ip link set {devv} up"', "unknown placeholder"),
        ('risk = "low"', 'risk = "harmless"', "risk"),
        ('"ip link set {dev} up"', '"ip link set {dev} up && reboot"', "one plain command"),
        ('zh = "解释"', 'zh = ""', "empty"),
        ('note = { en = "n", zh = "注" }', 'note = { en = "{mac}", zh = "注" }', "not allowed"),
        ('layer = "network"', 'layer = "session"', "layer"),
        ('lab = "yes"', 'lab = "no"', "lab_note"),
        ('undo = "ip link set {dev} down"\n', "", "undo is missing"),
        ('"{dev} is down"', '"{dev!r} is down"', "plain"),
        ('title = { en = "T", zh = "标题" }', 'title = { en = "T", zh = "标题", fr = "Titre" }', "language"),
    ],
)
def test_parse_catalog_rejects_bad_data(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(catalog.CatalogError, match=message):
        catalog.parse_catalog(GOOD.replace(old, new))


def test_parse_catalog_rejects_duplicates() -> None:
    with pytest.raises(catalog.CatalogError, match="twice"):
        catalog.parse_catalog(GOOD + GOOD)
