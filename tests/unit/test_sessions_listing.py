"""``vnetdoctor sessions``: ranked search that says why, a cut list that says so, sessions a fix healed.

Why these matter: step notes ("not needed: …", "passed: …") contain the words an
operator searches for, so an unranked search found almost everything; a silent
200-row cut hid sessions; and a session healed by an applied fix listed as plain
"reachable", the cause it had surviving only in its steps.
"""

from __future__ import annotations

import json
import time

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor import cli
from vnetdoctor.store import SessionStore


def _run(capsys, *argv):
    code = cli.main(["sessions", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        broken = F.record(st, fixed=False, scenario="guest-firewall")
        time.sleep(0.01)
        healthy = F.record(st, fixed=True, scenario="healthy")
        st.record_event(healthy, "note", {"text": "operator says the firewall ticket is closed"})
        time.sleep(0.01)
        fixed = F.record_fixed(st)
    return path, broken, healthy, fixed


def test_search_ranks_causes_above_operator_words_above_step_notes(db):
    path, broken, healthy, fixed = db
    with SessionStore(path, readonly=True) as st:
        found = st.sessions(search="firewall")
    by_id = {s.id: s for s in found}
    # Cause ids first (newest first within the rank), then the operator's note.
    assert [s.id for s in found][:2] == [fixed, broken]
    assert by_id[broken].matched == "cause firewall.guest_blocks"
    assert by_id[healthy].matched.startswith("operator note: ") and "firewall ticket" in by_id[healthy].matched
    assert [s.id for s in found].index(healthy) == 2


def test_a_word_only_in_step_notes_ranks_last_and_says_so(db):
    path, broken, healthy, fixed = db
    with SessionStore(path, readonly=True) as st:
        found = st.sessions(search="vndt-guest")
        assert all(s.matched == "guest netns:vndt-guest" for s in found)
        notes = st.sessions(search="asked the operator")
    assert notes and all(s.matched.startswith("step note (") for s in notes)


def test_limit_cuts_and_says_so_all_lists_everything(db, capsys):
    path, *_ = db
    code, out, err = _run(capsys, "--db", str(path), "--limit", "2")
    assert code == 0 and len(out.strip().splitlines()) == 3
    assert err.strip() == "vnetdoctor sessions: showing 2 of 3 sessions; --limit N or --all for more"
    code, out, err = _run(capsys, "--db", str(path), "--all")
    assert code == 0 and len(out.strip().splitlines()) == 4 and err == ""
    code, out, err = _run(capsys, "--db", str(path), "--limit", "1", "--json")
    assert len(json.loads(out)) == 1 and "showing 1 of 3" in err  # the JSON itself stays clean
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sessions", "--db", str(path), "--limit", "zero"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1 and "--limit" in err


def test_a_healed_session_says_which_cause_the_fix_cleared(db, capsys):
    path, broken, healthy, fixed = db
    code, out, _ = _run(capsys, "--db", str(path), "--json")
    rows = {d["id"]: d for d in json.loads(out)}
    assert rows[fixed]["fixed_by"] == ["firewall.guest_blocks"]
    assert rows[fixed]["fixes_applied"] == ["ip netns exec vndt-guest nft delete rule inet filter input handle 7"]
    assert rows[fixed]["result"] == "reachable, fixed: firewall.guest_blocks"
    assert rows[healthy]["fixed_by"] == [] and rows[healthy]["result"] == "reachable"
    assert rows[broken]["fixed_by"] == [] and rows[broken]["verdict"] == "cause"
    for d in rows.values():  # everything the table shows is in the JSON
        assert {"id", "started", "target", "host", "guest", "from", "scenario", "result"} <= set(d)
    code, out, _ = _run(capsys, "--db", str(path))
    line = next(line for line in out.splitlines() if line.startswith(fixed))
    assert "fixed: firewall.guest_blocks" in line and "vndt-host→vndt-guest" in line


def test_search_table_prints_why_under_each_session(db, capsys):
    path, broken, *_ = db
    code, out, _ = _run(capsys, "--db", str(path), "--search", "guest_blocks")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(broken))
    assert lines[at + 1] == "  ↳ matched cause firewall.guest_blocks"


def test_from_guest_sessions_show_the_direction(tmp_path, capsys):
    import dataclasses

    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.start_session(dataclasses.replace(F.request(), from_side="guest"), source="diagnose")
        st.finish_session(sid, F.diagnosis(fixed=True))
    code, out, _ = _run(capsys, "--db", str(path))
    assert "vndt-host←vndt-guest" in out


def test_the_table_in_chinese_has_no_english_words_of_its_own(db, capsys):
    """Age, result, why it matched, the cut notice and "nothing found": all in the chosen language.

    Ids, addresses, namespaces and cause ids are values and stay as recorded.
    """
    import re

    path, broken, healthy, fixed = db
    code, out, err = _run(capsys, "--db", str(path), "--lang", "zh", "--search", "firewall", "--limit", "2")
    assert code == 0 and "刚才" in out and "↳ 匹配：原因 firewall.guest_blocks" in out
    assert err.strip() == "vnetdoctor sessions：显示 3 个匹配中的 2 个；用 --limit N 或 --all 查看更多"
    code, out, _ = _run(capsys, "--db", str(path), "--lang", "zh")
    assert "已修复：firewall.guest_blocks" in out
    values = re.compile(r"\d{8}-\d{6}-\w+|[\w.-]*\.[\w.-]+|vndt-\w+|[\d.]+|guest-firewall|healthy|—")  # ids, causes, paths, scenarios
    words = {w for line in out.splitlines() for w in re.findall(r"[A-Za-z]+", values.sub(" ", line))}
    assert words == set(), words
    code, out, _ = _run(capsys, "--db", str(path), "--lang", "zh", "--search", "nothing-like-it")
    assert out.strip() == "没有会话匹配 'nothing-like-it'"
    code, out, _ = _run(capsys, "--db", str(path.with_name("none.db")), "--lang", "zh")
    assert out.startswith("尚无已记录的会话")
