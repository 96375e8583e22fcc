"""The command line in Chinese all the way: --help of every command, argparse's own
errors, vantage syntax errors, and the lab's words (issue 10, "Chinese complete").

With --lang zh the step notes were Chinese but `--help`, "the following arguments are
required", "bad vantage 'x'" and `lab up`'s lines were English. The language is now
read from argv (or the locale) before the parsers are built.
"""

from __future__ import annotations

import re

import pytest
from tests.unit.support.english_prose import CJK, english_left

from vnetdoctor import cli
from vnetdoctor.knowledge.text import error_text, texts
from vnetdoctor.probes.vantage import VantageError, check_vantage, parse_vantage


def _commands() -> list[list[str]]:
    parser = cli.build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    out: list[list[str]] = [[]]
    for name, sub in subs.items():
        out.append([name])
        for action in sub._actions:
            if isinstance(getattr(action, "choices", None), dict):
                out += [[name, inner] for inner in action.choices]
    return out


def _names(argv: list[str]) -> set[str]:
    """What a parser may show as it is: option strings, metavars, dests, choices, command names."""
    parser = cli.build_parser()
    names: set[str] = set()
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            names.update(action.option_strings)
            names.update(x for x in (action.metavar, action.dest) if isinstance(x, str))
            choices = getattr(action, "choices", None) or ()
            names.update(str(c) for c in choices)
            if isinstance(choices, dict):
                stack += list(choices.values())
    return names


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "top")
def test_every_help_is_chinese_with_lang_zh(command: list[str], capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from vnetdoctor.knowledge.text import display_width

    monkeypatch.setenv("COLUMNS", "80")
    allowed = _names(command)
    out = _help([*command, "--help", "--lang", "zh"], capsys)
    assert out.startswith("用法：vnetdoctor") and CJK.search(out)
    assert english_left(out, allowed) == [], out
    # Wrapped by terminal columns (a Chinese character takes two), not by characters.
    assert [line for line in out.splitlines() if display_width(line) > 80] == []
    # The guard can fail: the same help in English is full of words it flags.
    english = _help([*command, "--help", "--lang", "en"], capsys)
    assert len(english_left(english, allowed)) >= 5, english


def test_lang_before_the_command_and_from_the_locale(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    top = _help(["--lang", "zh", "--help"], capsys)
    assert "显示此帮助并退出" in top and "位置参数：" in top and "选项：" in top
    assert "用法：vnetdoctor diagnose" in _help(["--lang", "zh", "help", "diagnose"], capsys)
    assert "用法：vnetdoctor lab list" in _help(["lab", "--lang=zh", "list", "--help"], capsys)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "用法：vnetdoctor export" in _help(["export", "--help"], capsys)
    assert _help(["export", "--help", "--lang", "en"], capsys).startswith("usage: vnetdoctor export")


def test_argparse_is_itself_again_after_a_chinese_run(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    _help(["--lang", "zh", "--help"], capsys)
    assert argparse._("usage: ") == "usage: "  # type: ignore[attr-defined]
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage: x")


@pytest.mark.parametrize(("argv", "said"), [
    (["diagnose", "--bogus"], "无法识别的参数：--bogus"),
    (["lab", "up"], "缺少必需的参数：scenario"),
    (["diagnose", "--from", "sideways"], "参数 --from：无效的选择：'sideways'"),
    (["export", "x", "--format", "doc"], "无效的选择：'doc'"),
    (["sessions", "--limit", "x"], "参数 --limit：'x' 不是整数"),
    (["sessions", "--limit", "0"], "0 不是正数"),
    (["--target"], "参数 --target：需要一个参数值"),
    (["help", "nope"], "help 只接受一个命令名"),
    (["lab", "nope"], "无效的选择：'nope'"),
])
def test_argparse_errors_in_chinese_one_line_exit_2(argv: list[str], said: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--lang", "zh"] if argv[0] != "help" else ["--lang", "zh", *argv])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1, err
    assert said in err and err.startswith("vnetdoctor") and err.rstrip().endswith("（见 --help）"), err
    for english in ("usage", "error:", "invalid choice", "required", "unrecognized", "argument"):
        assert english not in err, err


BAD_VANTAGES = ["bogus", "netns:..", "netns:a b", "libvirt:", "libvirt:x@", "foo:bar"]


@pytest.mark.parametrize("text", BAD_VANTAGES)
def test_a_vantage_error_carries_its_key_and_speaks_both_languages(text: str) -> None:
    with pytest.raises(VantageError) as raised:
        parse_vantage(text)
    exc = raised.value
    assert exc.key in texts() and exc.key.startswith("vantage.")
    assert error_text(exc, "en") == str(exc)  # the probe's English is the translator's
    zh = error_text(exc, "zh")
    assert CJK.search(zh) and repr(text) in zh and "bad vantage" not in zh


def test_an_unknown_namespace_speaks_both_languages() -> None:
    with pytest.raises(VantageError) as raised:
        check_vantage(parse_vantage("netns:vnd-zh-no-such-ns"))
    assert error_text(raised.value, "en") == str(raised.value)
    assert error_text(raised.value, "zh").startswith("没有网络命名空间 'vnd-zh-no-such-ns'")


@pytest.mark.parametrize(("flags", "said"), [
    (["--host", "bogus"], "vnetdoctor diagnose: --host: 观测点 'bogus' 无效：应为 local、netns:NAME 或"),
    (["--guest", "libvirt:"], "vnetdoctor diagnose: --guest: 观测点 'libvirt:' 无效：'libvirt:' 后面没有域名"),
    (["--host", "netns:vnd-zh-no-such-ns"], "vnetdoctor diagnose: --host: 没有网络命名空间 'vnd-zh-no-such-ns'"),
])
def test_diagnose_says_a_bad_vantage_in_chinese(flags: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", "--target", "192.0.2.11", *flags, "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1 and "bad vantage" not in err, err


def test_trace_rules_alone_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tui", "--trace-rules", "--lang", "zh"]) == 2
    assert capsys.readouterr().err == (
        "vnetdoctor tui: --trace-rules 需要同时给出 --target 或 --guest（开始界面不提供这个选项）\n")


# ------------------------------------------------------------------------------ the lab's words


def test_lab_checks_and_down_lines_in_chinese() -> None:
    from vnetdoctor.lab.checks import DNS, TCP, Check
    from vnetdoctor.lab.lifecycle import DownReport

    tcp = Check(TCP, "vnd-host", "198.18.0.11", False, port=8080, expect_reason="refused")
    assert tcp.describe() == "tcp connect 198.18.0.11:8080 from vnd-host fails (refused)"
    assert tcp.describe("zh") == "从 vnd-host TCP 连接 198.18.0.11:8080 失败（refused）"
    assert Check(DNS, "vnd-guest", "host.lab.test", True).describe("zh") == "从 vnd-guest 解析 host.lab.test 成功"
    report = DownReport(namespaces=["vnd-host"], processes=[("dns", 42)], state_file="/run/x.json")
    assert report.lines() == ["stopped dns server (pid 42)", "deleted netns vnd-host", "removed /run/x.json"]
    assert report.lines("zh") == ["已停止 dns 服务（pid 42）", "已删除网络命名空间 vnd-host", "已删除 /run/x.json"]


def test_lab_list_says_why_a_scenario_cannot_run_in_chinese(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from vnetdoctor.knowledge.text import tr
    from vnetdoctor.lab import kernel

    monkeypatch.setattr(kernel, "missing", lambda needs: tr("labcli.no_vlan_both") if needs else None)
    assert cli.main(["lab", "list", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "本机内核不支持 802.1Q VLAN 设备（8021q），也不支持网桥 VLAN 过滤" in out
    assert "this kernel" not in out
    monkeypatch.setattr(kernel, "missing", lambda needs: kernel.ROOT_REASON)
    assert cli.main(["lab", "list", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "实验环境需要 root 权限" in out and "needs root" not in out
    from vnetdoctor.lab import SCENARIOS

    assert english_left(out.split("\n\n")[-1], set(SCENARIOS)) == []


def test_lab_up_refusals_in_chinese(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from vnetdoctor.lab import kernel

    monkeypatch.setattr(kernel, "is_privileged", lambda: False)
    assert cli.main(["lab", "up", "healthy", "--lang", "zh"]) == 2
    assert capsys.readouterr().err == (
        "vnetdoctor lab: 实验环境需要 root 权限（CAP_NET_ADMIN 和 CAP_SYS_ADMIN）：请用 sudo 运行\n")
    monkeypatch.setattr(kernel, "is_privileged", lambda: True)
    assert cli.main(["lab", "up", "nosuch", "--lang", "zh"]) == 2
    assert capsys.readouterr().err == "vnetdoctor lab: 没有场景 'nosuch'（见：vnetdoctor lab list）\n"
    assert cli.main(["lab", "down", "--prefix", "a b", "--lang", "zh"]) == 2
    assert capsys.readouterr().err.startswith("vnetdoctor lab: 实验环境前缀 'a b' 无效")
    assert cli.main(["demo", "firewall.nosuch", "--no-tui", "--lang", "zh"]) == 2
    assert capsys.readouterr().err == "vnetdoctor demo: 没有场景 'firewall.nosuch'（见：vnetdoctor lab list）\n"
    assert cli.main(["demo", "guest_b", "--no-tui", "--lang", "zh"]) == 2
    assert capsys.readouterr().err == "vnetdoctor demo: 没有场景 'guest_b'（是不是：firewall.guest_blocks？）\n"
    assert cli.main(["demo", "--no-tui", "--prefix", "a b", "--lang", "zh"]) == 2
    assert capsys.readouterr().err.startswith("vnetdoctor demo: 实验环境前缀 'a b' 无效")


def test_an_interrupted_command_says_so_in_chinese(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import types

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(__import__("sys").modules, "vnetdoctor.commands.causes",
                        types.SimpleNamespace(run=interrupted))
    assert cli.main(["causes", "--lang", "zh"]) == 130
    assert capsys.readouterr().err == "vnetdoctor: 收到 SIGINT，已中断\n"


def test_the_start_screens_field_error_names_the_vantage_problem_in_its_language() -> None:
    """The Start screen puts form.bad_vantage next to the field: its reason was English."""
    from vnetdoctor.session.request import RequestError, parse_request

    for fields in ({"guest": "foo:bar"}, {"host": "netns:vnd-zh-no-such-ns"}):
        with pytest.raises(RequestError) as raised:
            parse_request(target="192.0.2.11", lang="zh", **fields)
        assert raised.value.key == "form.bad_vantage" and CJK.search(raised.value.fmt["reason"]), raised.value
        with pytest.raises(RequestError) as raised:
            parse_request(target="192.0.2.11", lang="en", **fields)
        assert not CJK.search(raised.value.fmt["reason"])


def test_what_lab_down_left_behind_is_said_again_in_chinese() -> None:
    """Problems gathered in English (a list of phrases) come out whole in the other language."""
    from vnetdoctor.knowledge.text import join_clauses, tr
    from vnetdoctor.lab.ops import LabError

    exc = LabError(tr("labcli.left_behind", problems=join_clauses(
        [tr("labcli.process_stays", pid=41), tr("labcli.netns_stays", name="vnd-host")])))
    assert str(exc) == "lab down left something behind: process 41 did not exit; netns vnd-host is still there"
    assert error_text(exc, "zh") == "lab down 有残留：进程 41 没有退出；网络命名空间 vnd-host 仍然存在"
