"""The command line as scripts and pipes meet it: -V, `help`, and nothing clipped in a file.

A report written to a file or piped into grep must keep every character: a "…"
cut at some terminal width loses evidence for good. A terminal still gets lines
that fit it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from vnetdoctor.knowledge.model import Diagnosis, Finding, StepResult
from vnetdoctor.probes.vantage import parse_vantage

from vnetdoctor import __version__, cli
from vnetdoctor.console_report import render

LONG = "x" * 300


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vnetdoctor", *argv], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    res = _run([flag])
    assert res.returncode == 0 and res.stdout.strip() == f"vnetdoctor {__version__}"


def test_help_command_is_the_commands_help() -> None:
    res = _run(["help", "export"])
    assert res.returncode == 0
    assert "--redact" in res.stdout and "--format" in res.stdout and "pcap" in res.stdout
    assert _run(["help"]).stdout == _run(["--help"]).stdout


def test_help_for_an_unknown_command_is_one_line_and_exit_2() -> None:
    res = _run(["help", "nope"])
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "help takes one command name" in res.stderr and "Traceback" not in res.stderr


def test_every_option_and_argument_says_what_it_is() -> None:
    """`--prefix`, `--search`, `--json`, `--format`, session ids: no option without help text."""
    parser = cli.build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    missing = []
    for name, sub in subs.items():
        for action in sub._actions:
            if action.dest in ("help", "lab_command"):
                continue
            if not action.help:
                missing.append(f"{name} {action.option_strings or action.dest}")
        for action in sub._actions:
            choices = getattr(action, "choices", None)
            if not isinstance(choices, dict):
                continue
            for lname, lsub in choices.items():
                missing += [f"{name} {lname} {a.option_strings or a.dest}" for a in lsub._actions
                            if a.dest != "help" and not a.help]
    assert missing == []


def _diagnosis() -> Diagnosis:
    request = cli_request()
    finding = Finding(cause="tcp.port_closed", layer="transport", summary="closed " + LONG)
    step = StepResult(step="transport.tcp", layer="transport", title="TCP port", status="fail",
                      note="refused " + LONG, findings=(finding,))
    return Diagnosis(request=request, reachable=True, causes=(finding,), steps=(step,))


def cli_request():  # type: ignore[no-untyped-def]
    from vnetdoctor.knowledge.model import Request

    return Request(target="198.18.0.11", host=parse_vantage("local"))


def test_console_report_keeps_long_lines_for_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    text = render(_diagnosis(), None)
    assert "refused " + LONG in text and "…" not in text


def test_console_report_fits_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    text = render(_diagnosis(), None, width=80)
    assert "refused " + LONG not in text and "…" in text


def test_lab_list_and_sessions_keep_every_character_in_a_pipe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = _run(["lab", "list"])  # stdout is a pipe here
    assert res.returncode == 0 and "…" not in res.stdout
    assert any(len(line) > 100 for line in res.stdout.splitlines()), "descriptions are long: none was kept whole"
    from vnetdoctor.commands.sessions import MIN_WIDTH, fit

    rows = [["ID", "STARTED", "TARGET", "HOST→GUEST", "SCENARIO", "RESULT"],
            ["20261204-000000-abcd", "now", "198.18.0.11", "a-very-long-host-namespace→" + LONG, "—", "ok"]]
    assert "…" in "\n".join(fit(rows, MIN_WIDTH))  # a terminal gets a fitted table
    assert "…" not in "\n".join(fit(rows, 1 << 30))  # what sessions uses for a pipe


@pytest.mark.parametrize("argv", [["demo", "--no-tui", "--prefix", "x;y"], ["lab", "up", "healthy", "--prefix", "$(id)"],
                                  ["lab", "down", "--prefix", "a b"]])
def test_a_bad_lab_prefix_is_one_plain_line(argv: list[str]) -> None:
    """A prefix becomes namespace and interface names: refused up front, as bad input."""
    res = _run(argv)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "bad lab prefix" in res.stderr and "Error:" not in res.stderr and "Traceback" not in res.stderr


def test_the_chinese_report_folds_by_display_width_never_inside_an_address() -> None:
    """A terminal wraps a long line at its edge, mid-address; the report folds it itself:
    every line fits (a Chinese character takes two columns) and no address, number or
    cause id is split."""
    from vnetdoctor.knowledge.model import Fix
    from vnetdoctor.knowledge.text import display_width

    address, cause_id = "198.18.0.11", "firewall.guest_blocks"
    summary = f"虚拟机的防火墙丢弃了来自宿主机的 ping 请求，目标地址 {address} 在网桥 br0 上可达但无应答，" * 3
    guidance = Fix.guidance(("handle", "rule"), risk="low", note=f"在虚拟机控制台上删除丢弃 {address} 的规则；" * 4)
    finding = Finding(cause=cause_id, layer="network", summary=summary, fixes=(guidance,))
    step = StepResult(step="network.firewall", layer="network", title="防火墙", status="fail", findings=(finding,))
    d = Diagnosis(request=cli_request(), reachable=False, causes=(finding,), steps=(step,))
    for width in (40, 57, 80):
        lines = render(d, None, "zh", width=width).splitlines()
        assert all(display_width(line) <= width for line in lines), [ln for ln in lines if display_width(ln) > width]
        body = [ln for ln in lines if address[:4] in ln]
        assert len(body) >= 3 and all(address in ln for ln in body), body  # whole wherever it appears
        assert any(cause_id in ln for ln in lines)
        assert any("[风险：低]" in ln for ln in lines)  # the risk tag is never split
        assert not any(ln.rstrip().endswith("（") or ln.lstrip().startswith(("，", "）", "；")) for ln in lines)
    whole = render(d, None, "zh", width=0)
    assert summary in whole  # a file or a pipe keeps each line whole


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lab_list_on_an_80_column_terminal_puts_descriptions_below_whole(
        lang: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The columns leave a description 20 columns at 80: each line was 100+ wide and the
    terminal wrapped it mid-word. Now it goes under its row, wrapped, nothing cut."""
    from vnetdoctor import cli
    from vnetdoctor.commands import lab
    from vnetdoctor.knowledge.text import display_width
    from vnetdoctor.lab import SCENARIOS

    monkeypatch.setattr(lab, "output_width", lambda *a, **k: 80)  # a terminal of 80 columns
    assert cli.main(["lab", "list", "--lang", lang]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(display_width(line) <= 80 for line in lines), max(lines, key=display_width)
    flat = "".join(out.split())
    assert all("".join(s.describe(lang).split()) in flat for s in SCENARIOS.values())
    assert "…" not in out
