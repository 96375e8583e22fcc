"""Fixes are data, never code: argv rendering, strict embedded values, vantage prefixes,
guidance instead of placeholders, and recorded fixes loaded safely.

Every runnable fix must read (``command``) as exactly what runs (``argv``): checked
here on hand-made values that a shell would act on, on the recorded lab firewall
rows, and on the recorded session fixture.
"""

from __future__ import annotations

import re
import shlex

import pytest
from tests.unit.support.probe_recording import side
from tests.unit.support.store_fixtures import diagnosis
from vnetdoctor.knowledge import catalog
from vnetdoctor.knowledge.apply import FixRefused, fix_target
from vnetdoctor.knowledge.catalog import Words
from vnetdoctor.knowledge.firewall_match import rule_vars
from vnetdoctor.knowledge.model import Diagnosis, Finding, Fix, Request, StepResult
from vnetdoctor.knowledge.platform_fixes import with_uri
from vnetdoctor.knowledge.render import in_vantage
from vnetdoctor.probes import firewall_parse as fp
from vnetdoctor.probes.vantage import LOCAL, parse_vantage

from vnetdoctor import console_report
from vnetdoctor.report import _finding as report_finding

# What a shell would act on; a space is not allowed in an interface name, but is in a
# libvirt domain or network name.
HOSTILE = [
    "x;touch C", "x$(id)", "x`id`", "x>C", "x<C", "x|id", "x&id", "a\\b", "it's", 'say "hi"', "x*?", "${IFS}",
    "two words",
]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|<[a-z_]+>")
GUEST = parse_vantage("netns:vnd-guest")


def fix_of(cause: str, index: int = 0, **values: object) -> Fix:
    return catalog.render_fix(catalog.get_cause(cause).fixes[index], "en", strict=True, **values)


def assert_runs_as_shown(fix: Fix) -> None:
    assert fix.runnable, fix
    assert shlex.split(fix.command) == list(fix.argv)
    assert shlex.split(fix.undo) == list(fix.undo_argv)
    assert not [w for w in fix.argv + fix.undo_argv if PLACEHOLDER.search(w)], fix


# ------------------------------------------------------------------ one value, one argv word


@pytest.mark.parametrize("name", HOSTILE)
def test_a_whole_token_value_is_one_argv_element_whatever_it_holds(name: str) -> None:
    fix = in_vantage(fix_of("link.guest_if_down", dev=name), GUEST)
    assert fix.argv == ("ip", "netns", "exec", "vnd-guest", "ip", "link", "set", "dev", name, "up")
    assert_runs_as_shown(fix)


@pytest.mark.parametrize("name", HOSTILE)
def test_libvirt_names_with_spaces_and_shell_characters_stay_values(name: str) -> None:
    uri = "qemu+ssh://root@kvm1/system?socket=/run/libvirt/sock&no_verify=1"
    fix = with_uri(fix_of("libvirt.domain_not_running", domain=name), uri)
    assert fix.argv == ("virsh", "-c", uri, "start", name) and fix.where == "local"
    assert fix.undo_argv == ("virsh", "-c", uri, "shutdown", name)
    assert_runs_as_shown(fix)
    net = with_uri(fix_of("libvirt.network_inactive", network=name), uri)
    assert net.argv == ("virsh", "-c", uri, "net-start", name)
    assert_runs_as_shown(net)


def test_virsh_talks_to_its_default_uri_without_c() -> None:
    fix = with_uri(fix_of("libvirt.domain_not_running", domain="web"), "qemu:///system")
    assert fix.argv == ("virsh", "start", "web") and fix.where == "local"


def test_a_value_that_looks_like_an_option_is_not_passed_as_one() -> None:
    fix = fix_of("link.guest_if_down", dev="--help")
    assert not fix.runnable and fix.missing == ("dev",)


def test_a_firewall_rule_splices_in_as_its_own_words() -> None:
    text = '-p icmp -m comment --comment "vnd lab; x" -j DROP'
    rule = Words(text, fp.rule_words("iptables-nft", text))
    fix = fix_of("firewall.guest_blocks", 1, family="ip", table="filter", chain="INPUT", handle="", rule=rule)
    assert fix.argv == ("iptables", "-t", "filter", "-D", "INPUT",
                        "-p", "icmp", "-m", "comment", "--comment", "vnd lab; x", "-j", "DROP")
    assert_runs_as_shown(fix)


def test_nft_rule_words_keep_nfts_own_quotes() -> None:
    text = 'ip protocol icmp counter drop comment "vnd lab"'
    words = fp.rule_words("nftables", text)
    assert words == ("ip", "protocol", "icmp", "counter", "drop", "comment", '"vnd lab"')
    fix = fix_of("firewall.guest_blocks", 0, family="inet", table="f", chain="input", handle=4, rule=Words(text, words))
    assert fix.undo_argv[-2:] == ("comment", '"vnd lab"') and " ".join(fix.undo_argv[6:]) == text
    assert_runs_as_shown(fix)


@pytest.mark.parametrize("text", [
    "icmp type echo-request drop; flush ruleset",  # a second nft command
    "ip saddr $lan drop",  # a variable
    'comment "unterminated',
    '[{"match": {"op": "=="}}]',  # the JSON fallback, not nft's syntax
])
def test_nft_rule_text_that_cannot_be_split_safely_has_no_words(text: str) -> None:
    assert fp.rule_words("nftables", text) is None
    fix = fix_of("firewall.guest_blocks", 0, family="inet", table="f", chain="c", handle=4,
                 rule=Words(text, fp.rule_words("nftables", text)))
    assert not fix.runnable and fix.missing == ("rule",)


def test_a_plain_string_rule_is_never_split_again() -> None:
    fix = fix_of("firewall.host_blocks", 1, family="ip", table="filter", chain="INPUT", handle="",
                 rule="-p icmp -j DROP")
    assert not fix.runnable and fix.missing == ("rule",)


def test_iptables_modprobe_is_never_part_of_a_rule() -> None:
    assert fp.rule_words("iptables-legacy", "-p icmp --modprobe=/tmp/x -j DROP") is None


# ------------------------------------------------------------------ values inside another language


def test_nft_parses_its_arguments_so_its_names_must_be_plain() -> None:
    ok = fix_of("firewall.guest_blocks", 0, family="inet", table="filter", chain="input", handle=2,
                rule=Words("drop", ("drop",)))
    assert ok.argv == ("nft", "delete", "rule", "inet", "filter", "input", "handle", "2")
    bad = fix_of("firewall.guest_blocks", 0, family="inet", table="filter", chain="in; flush ruleset",
                 handle=2, rule=Words("drop", ("drop",)))
    assert not bad.runnable and bad.missing == ("chain",)
    # The same chain name is one plain argv element for iptables, which does not re-parse.
    ipt = fix_of("firewall.guest_blocks", 1, family="ip", table="filter", chain="in; flush ruleset",
                 handle="", rule=Words("-j DROP", ("-j", "DROP")))
    assert ipt.argv[4] == "in; flush ruleset"
    assert_runs_as_shown(ipt)


def test_embedded_values_must_match_their_kind() -> None:
    good = fix_of("libvirt.dhcp_no_lease", 3, network="default", mac="52:54:00:00:00:02", ip="198.51.100.20")
    assert good.argv[5] == "<host mac='52:54:00:00:00:02' ip='198.51.100.20'/>"
    assert_runs_as_shown(good)
    bad = fix_of("libvirt.dhcp_no_lease", 3, network="default", mac="52:54:00:00:00:02",
                 ip="198.51.100.20' name='x")
    assert (bad.runnable, bad.missing) == (False, ("ip",))

    assert_runs_as_shown(fix_of("nat.masquerade_missing", 1, subnet="198.18.0.0/24", uplink="eth1"))
    for uplink in ('eth1" ; flush ruleset ; "', "x;y", "a b"):
        fix = fix_of("nat.masquerade_missing", 1, subnet="198.18.0.0/24", uplink=uplink)
        assert (fix.runnable, fix.missing) == (False, ("uplink",)), uplink
    # The iptables variant takes the same uplink as one argv element: runnable.
    assert_runs_as_shown(fix_of("nat.masquerade_missing", 0, subnet="198.18.0.0/24", uplink="x;y"))

    rich = fix_of("firewall.guest_blocks", 3, subnet="198.18.0.0/24 accept' --x='")
    assert (rich.runnable, rich.missing) == (False, ("subnet",))
    sysctl = fix_of("route.rp_filter", sysctl="net.ipv4.conf.x;id.rp_filter", value="1")
    assert (sysctl.runnable, sysctl.missing) == (False, ("sysctl",))
    addr = fix_of("ip.no_address", ip="198.18.0.12", prefixlen="24; id", dev="eth0")
    assert (addr.runnable, addr.missing) == (False, ("prefixlen",))


def test_typed_values_are_checked_even_as_whole_tokens() -> None:
    assert fix_of("arp.unresolved", ip="198.18.0.1", mac="not-a-mac", dev="eth0").missing == ("mac",)
    assert fix_of("route.missing", gateway="$(id)", dev="eth0").missing == ("gateway",)


# ------------------------------------------------------------------ guidance, not placeholders


def test_unknown_values_make_guidance_that_names_them() -> None:
    fix = fix_of("tcp.port_closed", service="")
    assert (fix.runnable, fix.argv, fix.command, fix.missing) == (False, (), "", ("service",))
    assert catalog.guidance_text(fix, "en") == "guidance — needs: service name"
    assert catalog.guidance_text(fix, "zh") == "仅供参考——缺少：服务名"
    assert "<service name>" in fix.note  # the note says what to fill in, as prose
    two = fix_of("ip.no_address", ip="198.18.0.12", prefixlen=None, dev="")
    assert two.missing == ("prefixlen", "dev")
    assert catalog.guidance_text(two, "en") == "guidance — needs: prefix length, interface name"


def test_guidance_has_no_command_anywhere_the_operator_reads_it() -> None:
    guidance = Fix.guidance(("service",), risk="low", where="netns:g", note="start the service")
    runnable = Fix.of(("ip", "link", "set", "dev", "x;y", "up"), ("ip", "link", "set", "dev", "x;y", "down"),
                      risk="low", where="local")
    finding = Finding("tcp.port_closed", "transport", "nothing listens", fixes=(guidance, runnable))
    d = Diagnosis(Request("198.18.0.11", LOCAL), False, (finding,), (StepResult("x", "transport", "t", "fail"),))
    text = console_report.render(d, None)
    assert "fix:  guidance — needs: service name" in text and "start the service" in text
    assert "fix:  ip link set dev 'x;y' up" in text
    md = "\n".join(report_finding(1, finding, "en"))
    assert "guidance — needs: service name" in md
    assert md.count("```sh") == 2  # the runnable fix and its undo only
    assert "```sh\nip link set dev 'x;y' up\n```" in md


def test_guidance_is_never_applied() -> None:
    with pytest.raises(FixRefused):
        fix_target(Fix.guidance(("dev",), risk="low"))


def test_apply_runs_only_where_the_fix_says() -> None:
    ns = in_vantage(Fix.of(("ip", "link", "set", "dev", "eth0", "up"), risk="low"), GUEST)
    assert fix_target(ns) == (LOCAL, ns.argv) and ns.argv[:4] == ("ip", "netns", "exec", "vnd-guest")
    guest = in_vantage(Fix.of(("ip", "link", "set", "dev", "eth0", "up"), risk="low"),
                       parse_vantage("libvirt:web@test:///default"))
    assert fix_target(guest) == (parse_vantage("libvirt:web@test:///default"), ("ip", "link", "set", "dev", "eth0", "up"))
    with pytest.raises(FixRefused):  # another machine: copy it, never run it here
        fix_target(Fix.of(("ip", "addr", "del", "198.18.0.11/24", "dev", "eth0"), risk="high",
                          where="the station with MAC 52:54:00:00:00:99"))
    with pytest.raises(FixRefused):  # a namespace fix that would not run in its namespace
        fix_target(Fix.of(("ip", "link", "set", "dev", "eth0", "up"), risk="low", where="netns:vnd-guest"))


# ------------------------------------------------------------------ the Fix value and its records


def test_a_runnable_fix_is_displayed_as_its_argv_and_nothing_else() -> None:
    with pytest.raises(ValueError):
        Fix("ip link set eth0 up", "", "low", argv=("ip", "link", "set", "eth1", "up"), runnable=True)
    with pytest.raises(ValueError):
        Fix("", "", "low", argv=("ip",), runnable=False)  # guidance carries no argv
    with pytest.raises(ValueError):
        Fix.of((), risk="low")


def test_new_records_round_trip() -> None:
    fix = in_vantage(fix_of("link.guest_if_down", dev="x;y"), GUEST)
    data = fix.to_dict()
    assert data["argv"] == list(fix.argv) and data["runnable"] is True and data["missing"] == []
    assert Fix.from_dict(data) == fix
    guidance = fix_of("tcp.port_closed", service=None)
    assert Fix.from_dict(guidance.to_dict()) == guidance


def test_old_records_load_as_guidance_and_keep_their_words() -> None:
    old = {"command": "ip netns exec g ip link set eth0 up", "undo": "ip netns exec g ip link set eth0 down",
           "risk": "low", "where": "netns:g", "note": "n"}
    fix = Fix.from_dict(old)
    assert (fix.runnable, fix.argv, fix.command, fix.where) == (False, (), old["command"], "netns:g")
    assert catalog.guidance_text(fix) == f"guidance — recorded by an earlier version, not checked: {old['command']}"
    with pytest.raises(FixRefused):
        fix_target(fix)
    finding = Finding.from_dict({"id": "link.guest_if_down", "layer": "physical", "fixes": [old]})
    assert not finding.fixes[0].runnable


def test_a_tampered_record_runs_what_its_argv_says_or_nothing() -> None:
    data = Fix.of(("ip", "link", "set", "dev", "x;y", "up"), risk="low").to_dict()
    data["command"] = "ip link set dev x;y up"  # a display that would not be what runs
    assert Fix.from_dict(data).command == "ip link set dev 'x;y' up"
    assert not Fix.from_dict({**data, "missing": ["dev"]}).runnable
    assert not Fix.from_dict({**data, "argv": "ip link set dev x up"}).runnable


# ------------------------------------------------------------------ the catalogue's own checks


@pytest.mark.parametrize(("command", "message"), [
    ('"ip link set {dev} up', "split"),
    ("{dev} up", "program"),
    ("iptables -D INPUT x{rule}", "several words"),
    ("ip link set dev {devv} up", "unknown placeholder"),
])
def test_templates_that_are_not_argv_fail_at_load(command: str, message: str) -> None:
    with pytest.raises(catalog.CatalogError, match=message):
        catalog.compile_argv(command, "test")


def test_every_placeholder_has_a_kind_and_a_label_in_both_languages() -> None:
    words = catalog.parse_fix_words(catalog._data_text(), complete=True)
    assert set(words.labels) == catalog.PLACEHOLDERS == set(catalog.PLACEHOLDER_KINDS)
    with pytest.raises(catalog.CatalogError, match="not a known name"):
        catalog.parse_fix_words('[placeholder]\nnic = { en = "x", zh = "网卡" }\n')


# ------------------------------------------------------------------ recorded data


def recorded_firewall_rows() -> list[object]:
    def out(cmd: str) -> str:
        return str(side("guest")["firewall"][cmd]["stdout"])

    ruleset = fp.parse_nft_json(out("nft -j list ruleset"))
    saved = {"ip": fp.parse_save(out("iptables-nft-save -c")), "bridge": fp.parse_save(out("ebtables-nft-save -c"))}
    rows = fp.nft_rows(ruleset, fp.parse_nft_text(out("nft -a list ruleset")), fp.compat_tables(ruleset, saved))
    return rows + fp.legacy_rows(fp.parse_save(out("iptables-legacy-save -c")), "ip")


FIREWALL_CAUSES = ("firewall.guest_blocks", "firewall.host_blocks", "firewall.forward_blocks",
                   "firewall.bridge_filter", "tcp.port_filtered")


def test_every_recorded_firewall_rule_renders_runnable_fixes_that_read_as_they_run() -> None:
    rows = [r for r in recorded_firewall_rows() if r.rule]  # type: ignore[attr-defined]
    assert {r.backend for r in rows} >= {"nftables", "iptables-nft"}  # type: ignore[attr-defined]
    checked = 0
    for row in rows:
        values = dict(rule_vars(row), subnet="198.18.0.0/24", tcp_port=22, bridge="br0", uplink="eth1")
        words = values["rule"].words
        assert words, row
        if row.backend == "nftables":  # type: ignore[attr-defined]
            assert " ".join(words) == " ".join(row.rule.split())  # type: ignore[attr-defined]
        for cause in FIREWALL_CAUSES:
            for template in catalog.get_cause(cause).fixes:
                if template.when.startswith("os="):
                    continue  # a Windows guest's fixes: not for these Linux rows
                fix = catalog.render_fix(template, "en", strict=True, **values)
                if fix.runnable:
                    assert_runs_as_shown(fix)
                    checked += 1
                else:  # only a rule without a handle (iptables) leaves nft's delete incomplete
                    assert fix.missing == ("handle",), (cause, template.command, row)
    assert checked > 50


def test_the_recorded_session_fixture_has_runnable_fixes_that_read_as_they_run() -> None:
    for d in (diagnosis(False), diagnosis(False, link_down=True)):
        fixes = [f for c in d.causes for f in c.fixes]
        assert fixes
        for fix in fixes:
            assert_runs_as_shown(fix)
            assert Fix.from_dict(fix.to_dict()) == fix


def test_every_fix_of_the_libvirt_test_domains_reads_as_it_runs() -> None:
    """The recorded libvirt definitions (tests/data/libvirt/lab.xml), through the platform check."""
    pytest.importorskip("libvirt")
    from tests.unit.support.libvirt_fakes import LAB_URI
    from vnetdoctor.knowledge.checks import load_checks
    from vnetdoctor.knowledge.context import Shared, StepContext
    from vnetdoctor.knowledge.observer import Observer
    from vnetdoctor.probes import libvirt_conn

    check = load_checks()["platform.libvirt"]
    seen = 0
    for domain in ("web", "db", "stopped", "frozen", "asleep", "orphan", "vtap"):
        libvirt_conn.forget(LAB_URI)
        request = Request(target=None, host=LOCAL, guest=parse_vantage(f"libvirt:{domain}@{LAB_URI}"))
        ctx = StepContext(Shared(request, Observer(), "en"), "platform.libvirt", "platform")
        check(ctx)
        for fix in (f for finding in ctx.findings for f in finding.fixes):
            seen += 1
            if fix.runnable:
                assert_runs_as_shown(fix)
            else:
                assert fix.missing and fix.command == "", fix
    libvirt_conn.forget(LAB_URI)
    assert seen >= 6
