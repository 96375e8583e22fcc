"""One language per export: a session recorded in one language, exported in the other.

The evidence of a walk is recorded as sentences in the operator's language; an export
asked for in the other language says them again from the facts the record keeps
(vnetdoctor.relang). A real lab walk, so every evidence line the rules make for this
fault is covered, not a hand-made fixture.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from vnetdoctor import lab

pytestmark = pytest.mark.lab

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vnetdoctor", *args], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "LANG": "C.UTF-8"})


def _record(args: list[str], db: str, lang: str) -> str:
    proc = run_cli("diagnose", *args, "--json", "--db", db, "--lang", lang)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["session_id"]


def _export(db: str, sid: str, fmt: str, lang: str) -> str:
    proc = run_cli("export", sid, "--format", fmt, "--db", db, "--lang", lang)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _evidence(doc: dict) -> list[str]:
    return [e["text"] for c in doc["causes"] for e in c["evidence"]] + [
        e["text"] for s in doc["steps"] for f in s["findings"] for e in f["evidence"]]


def test_a_zh_walk_exported_in_english_is_english_and_back(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "s.db")
    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        zh = _record(inst.diagnose_args(), db, "zh")
        en = _record(inst.diagnose_args(), db, "en")

    md = _export(db, zh, "md", "en")
    doc = json.loads(_export(db, zh, "json", "en"))
    evidence = _evidence(doc)
    assert evidence and not [t for t in evidence if CJK.search(t)], evidence
    assert not [c["summary"] for c in doc["causes"] if CJK.search(c["summary"])]
    headings = [line for line in md.splitlines() if line.startswith("#") or line.startswith("**")]
    assert headings and not [h for h in headings if CJK.search(h)], headings
    section = md.split("**Evidence**", 1)[1].split("**Fixes**", 1)[0]
    assert section.strip() and not CJK.search(section), section
    # What the record could not say again is said to be shown as recorded, never passed off.
    kept = doc["record"]["language"]["kept_as_recorded"]
    assert doc["record"]["language"]["recorded"] == "zh"
    assert (f"{kept} text{'' if kept == 1 else 's'} below {'is' if kept == 1 else 'are'} shown as recorded" in md) == (kept > 0)
    # The record itself is untouched: the same session exported in its own language is Chinese.
    assert CJK.search(" ".join(_evidence(json.loads(_export(db, zh, "json", "zh")))))

    # And the other way: an English walk exported in Chinese has Chinese evidence.
    doc = json.loads(_export(db, en, "json", "zh"))
    evidence = _evidence(doc)
    assert evidence and all(CJK.search(t) for t in evidence), evidence
    md = _export(db, en, "md", "zh")
    section = md.split("**证据**", 1)[1].split("**修复方法**", 1)[0]
    assert CJK.search(section)
