"""``vnetdoctor causes``: valid JSON with every cause, and a table that fits an
80-column console in English and in Chinese (wide characters count two columns)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata

import pytest

from vnetdoctor.cli import main
from vnetdoctor.knowledge import catalog
from vnetdoctor.knowledge.text import layer_name

# test_catalog.py holds the catalogue to the causes.md contract; here it is the reference.
EMBEDDED = {c.id: c.layer for c in catalog.all_causes()}


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


@pytest.fixture
def no_locale(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def run_causes(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["causes", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_json_lists_every_cause_with_its_fixes(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    data = json.loads(run_causes(capsys, "--json", "--lang", lang))
    assert isinstance(data, list)
    assert [item["id"] for item in data] == [c.id for c in catalog.all_causes()]
    assert len(data) == len(catalog.all_causes()) >= 34
    for item in data:
        assert {"id", "layer", "title", "explanation", "proof", "fixes", "lab"} <= set(item)
        assert item["layer"] == EMBEDDED[item["id"]]
        assert item["lab"] in ("yes", "libvirt", "sim", "no")
        assert item["title"] and item["explanation"] and item["proof"]
        assert item["fixes"]
        for fix in item["fixes"]:
            assert {"command", "undo", "risk", "note"} <= set(fix)
            assert fix["command"] and fix["undo"] and fix["risk"] in ("low", "medium", "high") and fix["note"]
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in data[0]["title"])
    assert chinese == (lang == "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_fits_80_columns_and_lists_every_cause_once(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    out = run_causes(capsys, "--lang", lang)
    lines = out.splitlines()
    too_wide = [line for line in lines if columns(line) > 80]
    assert too_wide == []
    for cause in catalog.all_causes():
        rows = [line for line in lines if line.split()[:1] == [cause.id]]
        assert len(rows) == 1, cause.id
        assert rows[0].rstrip().endswith(cause.title(lang)), "one line per cause: the title fits"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_is_grouped_by_layer_in_walk_order(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    lines = run_causes(capsys, "--lang", lang).splitlines()
    headings = [lines.index(layer_name(layer, lang)) for layer in catalog.CAUSE_LAYERS]
    assert headings == sorted(headings)
    for layer, group in catalog.causes_by_layer().items():
        start = lines.index(layer_name(layer, lang))
        block = lines[start + 1 : start + 1 + len(group)]
        assert [line.split()[0] for line in block] == [c.id for c in group]


def test_language_comes_from_the_locale(capsys: pytest.CaptureFixture[str], no_locale: pytest.MonkeyPatch) -> None:
    no_locale.setenv("LANG", "zh_CN.UTF-8")
    assert "虚拟化平台" in run_causes(capsys)
    assert "Virtualisation platform" in run_causes(capsys, "--lang", "en")
    no_locale.setenv("LANG", "en_US.UTF-8")
    assert "Virtualisation platform" in run_causes(capsys)


def test_console_script_end_to_end() -> None:
    env = dict(os.environ, LANG="zh_CN.UTF-8", PYTHONIOENCODING="utf-8")
    env.pop("LC_ALL", None)
    env.pop("LANGUAGE", None)
    env.pop("LC_MESSAGES", None)
    proc = subprocess.run(
        [sys.executable, "-m", "vnetdoctor", "causes", "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(json.loads(proc.stdout)) == len(EMBEDDED)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_cause_in_full_by_id_or_unique_prefix(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    """`causes ID` is what a new operator types after reading an id in the table or a report."""
    cause = catalog.get_cause("firewall.guest_blocks")
    out = run_causes(capsys, "firewall.guest", "--lang", lang)  # a unique prefix is enough
    lines = out.splitlines()
    assert lines[0] == f"firewall.guest_blocks — {cause.title(lang)}"
    assert layer_name("network", lang) in lines[1]
    flat = "".join(out.split())
    assert "".join(cause.explanation(lang).split()) in flat and "".join(cause.proof(lang).split()) in flat
    for fix in cause.fixes:  # the commands whole, never wrapped: they are copied
        assert any(line.strip() == fix.command for line in lines)
    commands = [c for f in cause.fixes for c in (f.command, f.undo) if c]
    assert all(columns(line) <= 80 for line in lines if not any(c in line for c in commands))
    if lang == "zh":
        assert "层次：网络层" in out and "Layer" not in out
    doc = json.loads(run_causes(capsys, "firewall.guest_blocks", "--json", "--lang", lang))
    assert doc == cause.to_dict(lang)


@pytest.mark.parametrize(("ref", "said"), [
    ("nosuch", "vnetdoctor causes: no cause 'nosuch'; `vnetdoctor causes` lists them"),
    ("firewall", "vnetdoctor causes: 'firewall' could be firewall."),
])
def test_an_unknown_or_ambiguous_id_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], ref: str,
                                                           said: str) -> None:
    assert main(["causes", ref, "--lang", "en"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(said) and captured.err.count("\n") == 1
