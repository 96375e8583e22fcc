"""The engine's step notes and evidence lines come from data/evidence.toml, in both languages.

What is proved here: the data file is complete and consistent (both languages, the
same placeholders, Chinese punctuation); the code and the data agree on the keys
(found by reading the sources, so a key typed wrong or left behind fails); every
call passes the placeholders its template needs; a missing placeholder fails loudly
under pytest, as the catalogue's templates do; and the English text is exactly
what the checks printed before the words moved into data (tests, recorded sessions
and operators quote it), while the Chinese is really Chinese.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from vnetdoctor.knowledge.catalog import TemplateError, placeholders_of
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.discovery import describe, discover_target
from vnetdoctor.knowledge.firewall_evidence import describe_suspect
from vnetdoctor.knowledge.firewall_match import Suspect, Traffic, suspects
from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.knowledge.path import Hop, PathPoint
from vnetdoctor.knowledge.text import (
    TextDataError,
    UnknownTextKey,
    file_texts,
    texts as all_texts,
    join,
    join_clauses,
    parse_texts,
    punctuation_slips,
)
from vnetdoctor.knowledge.text import tr as text
from vnetdoctor.knowledge.trace import Leg, hop_label
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.rows import AddrRow, FirewallRow
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vantage import parse_vantage

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
# Where operator-facing notes and evidence are written.
SOURCES = sorted(
    [*KNOWLEDGE.glob("checks_*.py")]
    + [KNOWLEDGE / name for name in ("trace.py", "engine.py", "discovery.py", "platform_fixes.py", "context.py",
                                      "firewall_evidence.py", "text.py", "target_kind.py")]
)
# Functions whose first argument is an evidence.toml key.
KEY_FUNCTIONS = {"t", "tr", "_problem"}
# Pass-through wrappers: they forward a key their caller chose (and the scan sees there).
FORWARDERS = {("context.py", "t"), ("text.py", "tr"), ("text.py", "__call__"), ("text.py", "label"), ("text.py", "probe_reason"),
              ("text.py", "layer_name"), ("text.py", "risk_name"), ("text.py", "side_name"), ("checks_platform_hosted.py", "_english"),
              ("checks_platform_hosted.py", "_evidence"),
              ("text.py", "render_said"),  # says a recorded key again (knowledge/phrase.py)
              ("text.py", "error_text")}  # says the key an error carries (probes/vantage.py)
def texts() -> dict:
    """The messages of evidence.toml only (the translator holds every area's)."""
    return file_texts("evidence.toml")


CJK = re.compile(r"[\u4e00-\u9fff]")

HOST = parse_vantage("netns:lab-host")
GUEST = parse_vantage("netns:lab-guest")


# ------------------------------------------------------------------------------ the data


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    assert len(texts()) > 100
    for key, value in texts().items():
        assert value.en.strip() and value.zh.strip(), key
        assert placeholders_of(value.en) == placeholders_of(value.zh), key
        assert "\n" not in value.en + value.zh, key


def test_chinese_is_chinese_and_uses_chinese_punctuation() -> None:
    slips = [f"{key}: {s!r}" for key, v in texts().items() for s in punctuation_slips(v.zh)]
    assert slips == []
    # Each sentence has Chinese words in it; only pure fragments may be symbols alone.
    symbolic = {"sep.list", "sep.clause", "common.paren_suffix", "context.answer_guidance", "trace.leg",
                "datalink.pmtu_told", "discovery.status", "discovery.status_reason", "firewall.suspect",
                "firewall.suspect_handle", "network.kernel_route_get"}
    assert [k for k, v in texts().items() if k not in symbolic and not CJK.search(v.zh)] == []


def test_fragments_carry_their_own_spacing() -> None:
    """An English fragment appended to a sentence starts with its space; its Chinese does not need one."""
    for key, value in texts().items():
        if value.en.startswith((" ", ";")):
            assert not value.zh.startswith(" ") or key in ("sep.and",), key
        assert value.en == value.en.rstrip() or key in ("sep.list", "sep.clause", "sep.and"), key


# ------------------------------------------------------------------------------ code ⇄ data


def _calls() -> list[tuple[str, int, list[str], set[str] | None]]:
    """(file, line, keys, keyword names or None when **values) of every key lookup in the sources."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for node in ast.walk(func):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name not in KEY_FUNCTIONS:
                    continue
                arg = node.args[0]
                options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                keys = [o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)]
                if len(keys) != len(options):
                    assert (path.name, func.name) in FORWARDERS, (
                        f"{path.name}:{node.lineno}: a computed key in {func.name}(): write the key literally "
                        "so that this test can check it exists"
                    )
                    continue
                spread = any(k.arg is None for k in node.keywords)
                names = None if spread else {k.arg for k in node.keywords if k.arg and k.arg != "strict"}
                found.append((path.name, node.lineno, keys, names))
    return found


def test_the_code_uses_exactly_the_keys_of_the_data_file() -> None:
    used = {key for _f, _l, keys, _n in _calls() for key in keys}
    assert sorted(used - set(all_texts())) == [], "keys the code uses but no data file has"
    # A front end's variant (``key_tui``) and a count's one-form (``key_one``) are used
    # wherever their key is (text.tr).
    variants = {k for k in texts() for suffix in ("_tui", "_one")
                if k.endswith(suffix) and k.removesuffix(suffix) in used}
    assert sorted(set(texts()) - used - variants) == [], "keys in evidence.toml nothing uses"


def test_tui_variants_name_no_cli_flag_and_fill_like_their_key() -> None:
    """The TUI's text of a note never says ``--guest``; the CLI's keeps its flag."""
    variants = {k: v for k, v in texts().items() if k.endswith("_tui")}
    assert "platform.no_libvirt_guest_tui" in variants
    for key, value in variants.items():
        base = texts()[key.removesuffix("_tui")]
        assert placeholders_of(value.en) == placeholders_of(base.en), key
        assert "--" not in value.en + value.zh, key
        assert "--" in base.en + base.zh, f"{key}: the CLI's text names no flag, no variant needed"
    assert text("platform.no_libvirt_guest", "en") == (
        "no libvirt guest in this request (use --guest libvirt:DOMAIN[@URI])")
    assert text("platform.no_libvirt_guest", "en", audience="tui") == (
        "no libvirt guest chosen (pick one on the Start screen)")
    assert "--" not in text("platform.no_libvirt_guest", "zh", audience="tui")
    assert text("firewall.counter_moved", "en", audience="tui", delta=3) == "counter +3 while the probes ran"


def test_every_call_supplies_the_placeholders_of_its_template() -> None:
    missing = []
    for file, line, keys, names in _calls():
        if names is None:
            continue
        for key in keys:
            need = placeholders_of(texts()[key].en) if key in texts() else frozenset()
            if need - names:
                missing.append(f"{file}:{line} {key} lacks {sorted(need - names)}")
    assert missing == []


def test_the_scan_sees_the_calls_it_must() -> None:
    """Guard the guard: a scan that found nothing would pass the two tests above."""
    files = {f for f, *_ in _calls()}
    assert {"checks_network.py", "checks_datalink.py", "trace.py", "engine.py", "discovery.py",
            "checks_platform_hosted.py", "firewall_evidence.py", "context.py"} <= files


# ------------------------------------------------------------------------------ rendering


def test_rendering_fills_placeholders_in_each_language() -> None:
    assert text("firewall.counter_moved", "en", delta=3) == "counter +3 while the probes ran"
    assert text("firewall.counter_moved", "zh", delta=3) == "探测期间计数器增加了 3"
    assert join(["a", "b"], "en") == "a, b"
    assert join(["a", "b"], "zh") == "a、b"
    assert join_clauses(["a", "b"], "zh") == "a；b"


def test_a_missing_placeholder_fails_loudly_under_pytest() -> None:
    with pytest.raises(TemplateError, match=r"firewall.counter_moved.*\{delta\}"):
        text("firewall.counter_moved", "zh")
    with pytest.raises(UnknownTextKey, match="no.such_key"):
        text("no.such_key", "en")


def test_production_rendering_never_raises() -> None:
    assert text("firewall.counter_moved", "en", strict=False) == "counter +<delta> while the probes ran"
    assert text("no.such_key", "zh", strict=False) == "no.such_key"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('[a]\nb = { en = "x {dev}", zh = "中 {ip}" }', "en uses"),
        ('[a]\nb = { en = "x" }', "exactly 'en' and 'zh'"),
        ('[a]\nb = { en = "x", zh = " " }', "empty"),
        ('[a]\nb = { en = "x", zh = "中", fr = "y" }', "exactly 'en' and 'zh'"),
        ('[a]\nb = "x"', "neither a table"),
        ('[a]\nb = { en = "{x!r}", zh = "{x!r}" }', "plain"),
        ("", "no texts"),
        ("[a", "text"),
    ],
)
def test_bad_data_is_rejected_with_the_key(data: str, message: str) -> None:
    with pytest.raises(TextDataError, match=re.escape(message)):
        parse_texts(data)


def test_parse_keeps_fragments_as_written() -> None:
    parsed = parse_texts('[n]\nm = { en = " (managed by {manager})", zh = "（由 {manager} 管理）" }')
    assert parsed["n.m"].en == " (managed by {manager})"


def test_step_context_speaks_the_diagnosis_language() -> None:
    for lang, note, joined in (("en", "nobody answers ARP for 192.0.2.1", "a; b"),
                               ("zh", "没有任何主机应答 192.0.2.1 的 ARP 请求", "a；b")):
        ctx = StepContext(Shared(Request(target=None, host=HOST, guest=GUEST), Observer(), lang), "s", "network")
        assert ctx.t("arp.nobody_answers", ip="192.0.2.1") == note
        ctx.note("a")
        ctx.note("b")
        assert ctx.summary_note() == joined


# ------------------------------------------------------------------------------ the trace


def _leg(rows: list[EchoRow], hops: tuple[Hop, ...], seen: dict | None = None, replies: dict | None = None) -> Leg:
    echo = Observation(probe="icmp.echo", vantage=str(HOST), rows=tuple(rows))
    return Leg("forward", HOST, "192.0.2.11", 7, echo, hops, seen or {}, replies or {})


P = PathPoint
HOPS = (Hop(HOST, "br0", "host", "bridge"), Hop(HOST, "vnet0", "host", "port"), Hop(GUEST, "eth0", "guest", "nic"))
LOST = [EchoRow("192.0.2.11", seq, 7, 56, False, None) for seq in (1, 2, 3)]


@pytest.mark.parametrize(
    ("leg", "en", "zh"),
    [
        (_leg([EchoRow("192.0.2.11", 1, 7, 56, False, 0.1), *LOST[1:]], HOPS), "1/3 replies", "收到 1/3 个回包"),
        (_leg([EchoRow("192.0.2.11", 1, 7, 56, False, None, error="Network is unreachable")], HOPS),
         "send failed: Network is unreachable", "发送失败：Network is unreachable"),
        (_leg(LOST, ()), "no capture points on the path", "路径上没有可以抓包的接口"),
        (_leg(LOST, HOPS), "echo request never seen on host br0", "在宿主机 br0 上始终没有抓到回显请求"),
        (_leg(LOST, HOPS, {"1": (P("host", "br0"),)}), "echo request seen on host br0, never on host vnet0",
         "回显请求在宿主机 br0 上抓到了，但始终没有出现在宿主机 vnet0 上"),
        (_leg(LOST, HOPS, {"1": (P("host", "br0"), P("host", "vnet0"), P("guest", "eth0"))}, {"1": (P("guest", "eth0"), P("host", "vnet0"))}),
         "echo request reached guest eth0; a reply was seen on guest eth0, host vnet0 but never came back",
         "回显请求已到达虚拟机 eth0；在虚拟机 eth0、宿主机 vnet0 上看到了回包，但回包没有回到发送方"),
        # The reply's hops in the order it travelled (issue 10: they were listed alphabetically).
        (_leg(LOST, HOPS, {"1": (P("host", "br0"), P("host", "vnet0"), P("guest", "eth0"))},
              {"1": (P("host", "br0"), P("guest", "eth0"), P("host", "vnet0"))}),
         "echo request reached guest eth0; a reply was seen on guest eth0, host vnet0, host br0 but never came back",
         "回显请求已到达虚拟机 eth0；在虚拟机 eth0、宿主机 vnet0、宿主机 br0 上看到了回包，但回包没有回到发送方"),
        (_leg(LOST, HOPS, {"1": (P("host", "br0"), P("host", "vnet0"), P("guest", "eth0"))}),
         "echo request reached guest eth0; no reply was sent back", "回显请求已到达虚拟机 eth0，但对方没有发出回包"),
        # No vantage in the guest: whether it replied was not observed, and the line says so.
        (_leg(LOST, HOPS[:2], {"1": (P("host", "br0"), P("host", "vnet0"))}),
         "echo request reached host vnet0; no reply came back (not captured in the guest: no vantage there)",
         "回显请求已到达宿主机 vnet0，但没有回包（虚拟机内未抓包：那里没有观测点）"),
    ],
)
def test_where_the_echo_requests_went(leg: Leg, en: str, zh: str) -> None:
    assert leg.where() == en  # the default stays English: the TUI and older callers pass nothing
    assert leg.where("zh") == zh
    assert leg.line() == f"netns:lab-host → 192.0.2.11: {en}"
    assert leg.line("zh") == f"netns:lab-host → 192.0.2.11：{zh}"


def test_hop_labels_match_the_path_labels_in_english() -> None:
    for hop in HOPS:
        assert hop_label(hop.side, hop.iface) == hop.label()
    assert hop_label("guest", "eth0", "zh") == "虚拟机 eth0"
    assert hop_label("?", "eth9", "zh") == "? eth9"


# ------------------------------------------------------------------------------ firewall suspects


def _rules() -> tuple[list[FirewallRow], list[FirewallRow]]:
    chain = FirewallRow("nftables", "inet", "filter", "input", hook="input", policy="accept")
    counted = FirewallRow("nftables", "inet", "filter", "input", rule="icmp type echo-request counter drop",
                          verdict="drop", handle=2, packets=0, position=0)
    uncounted = FirewallRow("iptables-legacy", "ip", "filter", "INPUT", rule="-p icmp -j DROP", verdict="drop",
                            position=1)
    policy = FirewallRow("nftables", "inet", "filter", "forward", hook="forward", policy="drop", handle=1)
    before = [chain, counted, uncounted, policy]
    after = [chain, dataclasses.replace(counted, packets=3), uncounted, policy]
    return before, after


def test_suspects_read_the_same_in_english_and_in_chinese_words() -> None:
    before, after = _rules()
    t_in = Traffic("icmp", "192.0.2.1", "192.0.2.11", ("input",), families=("ip", "inet"))
    t_fwd = Traffic("icmp", "192.0.2.11", "203.0.113.9", ("forward",), families=("ip", "inet"))
    found = suspects(before, after, t_in) + suspects(after, after, t_fwd)
    assert {s.delta is not None for s in found} == {True, False} and any(not s.rule.rule for s in found)
    for s in found:
        assert describe_suspect(s) == s.describe()
        zh = describe_suspect(s, "zh")
        assert CJK.search(zh) and zh != s.describe()
    counted = next(s for s in found if s.delta)
    assert describe_suspect(counted, "zh") == (
        "nftables inet filter input：icmp type echo-request counter drop（handle 2）——探测期间计数器增加了 3"
    )


def test_a_reason_without_words_is_shown_as_firewall_match_gave_it() -> None:
    _before, after = _rules()
    odd = Suspect(after[1], 3, "counted by a new kind of proof")
    assert describe_suspect(odd, "zh").endswith("——counted by a new kind of proof")


# ------------------------------------------------------------------------------ discovery


def _addresses(*rows: AddrRow):
    def observe(probe_id: str, vantage, **params) -> Observation:
        return Observation(probe=probe_id, vantage=str(vantage), rows=rows)

    return observe


def test_discovery_lines_in_both_languages() -> None:
    one = _addresses(AddrRow("eth0", "inet", "192.0.2.11", 24, "global"))
    assert discover_target(GUEST, HOST, one) == ("192.0.2.11", ["guest: 192.0.2.11 on eth0"])
    assert discover_target(GUEST, HOST, one, lang="zh") == ("192.0.2.11", ["虚拟机：eth0 上的 192.0.2.11"])
    two = _addresses(AddrRow("eth0", "inet", "192.0.2.11", 24, "global"),
                     AddrRow("eth1", "inet", "198.51.100.11", 24, "global"))
    assert discover_target(GUEST, HOST, two)[1] == [
        "guest: several addresses (192.0.2.11 on eth0, 198.51.100.11 on eth1): give --target"]
    assert discover_target(GUEST, HOST, two, lang="zh")[1] == [
        "虚拟机：有多个地址（eth0 上的 192.0.2.11、eth1 上的 198.51.100.11）：请用 --target 指定"]
    assert discover_target(None, HOST, lang="zh") == (None, ["未给出 --guest：请用 --target 指定目标地址"])
    assert describe(["a", "b"], "zh") == "a；b"


# ------------------------------------------------------------------------------ a whole check


def test_a_check_in_chinese_keeps_its_finding_and_template_variables() -> None:
    """Only the words change with the language: cause, fixes and the summary's variables stay."""
    from vnetdoctor.knowledge.checks import load_checks
    from vnetdoctor.knowledge.observer import RecordedObserver
    from vnetdoctor.probes.rows import LinkRow
    from vnetdoctor.probes.rows_platform import PlatformSignRow, VmnetConfigRow
    from vnetdoctor.probes.vantage import LOCAL

    signs = [PlatformSignRow("vmware", "module", m, True) for m in ("vmmon", "vmnet")]
    signs += [PlatformSignRow("vmware", "process", p, True, f"pid 1{i} vmnet8")
              for i, p in enumerate(("vmnet-netifup", "vmnet-dhcpd"))]  # vmnet-natd is gone
    signs += [PlatformSignRow("vmware", "config", "/etc/vmware/networking", True)]
    vmnet8 = LinkRow(ifindex=8, name="vmnet8", kind="", operstate="UNKNOWN", admin_up=True, carrier=True,
                     mtu=1500, mac="00:50:56:c0:00:08")
    observations = [
        Observation(probe="link.list", vantage="local", rows=(vmnet8,)),
        Observation(probe="addr.list", vantage="local", rows=(AddrRow("vmnet8", "inet", "198.51.100.1", 24, "global"),)),
        Observation(probe="platform.detect", vantage="local", rows=tuple(signs)),
        Observation(probe="vmware.networking", vantage="local",
                    rows=(VmnetConfigRow("vmnet8", "198.51.100.0/24", virtual_adapter=True, dhcp=True, nat=True),)),
    ]
    check = load_checks()["platform.vmware"]
    findings = {}
    for lang in ("en", "zh"):
        req = Request(target="198.51.100.7", host=LOCAL, guest=None)
        ctx = StepContext(Shared(req, RecordedObserver(observations), lang), "platform.vmware", "platform")
        check(ctx)
        (findings[lang],) = ctx.findings
    en, zh = findings["en"], findings["zh"]
    assert [e.text for e in en.evidence] == ["vmnet-natd is not running: NAT on vmnet8 is stopped"]
    assert [e.text for e in zh.evidence] == ["vmnet-natd 没有运行：vmnet8 上的 NAT 已停止"]
    assert en.cause == zh.cause == "vmware.vmnet_down"
    assert [f.command for f in en.fixes] == [f.command for f in zh.fixes]
    assert "unusable: vmnet-natd is not running" in en.summary and "unusable: vmnet-natd is not running" in zh.summary
