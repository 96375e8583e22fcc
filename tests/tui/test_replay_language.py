"""A replay says the record's texts in the operator's language, as an export does.

An English record replayed with ``--lang zh`` used to keep every English note and
evidence beside Chinese chrome. The replay now goes through the same
:func:`vnetdoctor.relang.in_language` as an export: texts recorded with their facts
are said again; texts recorded without them stay as recorded, and the replay says
how many in one notice instead of passing them off as translated.
"""

from __future__ import annotations

import dataclasses
import re

from tests.tui.support.engine import REQUEST, TARGET, fake_knowledge
from vnetdoctor.commands.replay import replay_state
from vnetdoctor.knowledge.model import FAIL, Diagnosis, Evidence, Finding, StepResult
from vnetdoctor.knowledge.text import tr
from vnetdoctor.store import SessionStore
from vnetdoctor.tui.launch import build_app

CJK = re.compile(r"[\u3400-\u9fff]")
FACTLESS = "the operator wrote this by hand"


def _record(db, *, with_factless: bool) -> tuple[SessionStore, str]:
    request = dataclasses.replace(REQUEST, lang="en")
    seen = tr("trace.seen_not_on", "en", last=tr("hop.host", "en", iface="vnet0"),
              missing=tr("hop.guest", "en", iface="eth0"))
    finding = Finding("firewall.guest_blocks", "network", seen, (Evidence(seen, "capture.path"),))
    note = FACTLESS if with_factless else seen
    step = StepResult("symptom.ping", "symptom", "Ping both ways", FAIL, note=note, findings=(finding,))
    store = SessionStore(db)
    sid = store.start_session(request, source="tui")
    store.record_step(sid, step)
    store.finish_session(sid, Diagnosis(request, False, (finding,), (step,), 100.0, target=TARGET))
    return store, sid


def test_a_record_replayed_in_its_own_language_needs_no_notice(tmp_path) -> None:
    """Even its fact-less texts are in the language asked for: nothing to own up to."""
    store, sid = _record(tmp_path / "s.db", with_factless=True)
    with store:
        state, _factory = replay_state(store, sid, "en")
    assert state.notice == ""


async def test_the_replayed_walk_shows_the_evidence_in_chinese(tmp_path) -> None:
    store, sid = _record(tmp_path / "s.db", with_factless=False)
    with store:
        state, factory = replay_state(store, sid, "zh")
        app = build_app(state, factory, knowledge=fake_knowledge(), autorun=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            result = state.engine.results()["symptom.ping"]
            assert result.note == "回显请求在宿主机 vnet0 上抓到了，但始终没有出现在虚拟机 eth0 上"
            assert all(CJK.search(e.text) for f in result.findings for e in f.evidence)
            assert not app._notifications


async def test_texts_kept_as_recorded_are_counted_in_one_notice(tmp_path) -> None:
    store, sid = _record(tmp_path / "s.db", with_factless=True)
    with store:
        state, factory = replay_state(store, sid, "zh")
        assert state.notice.startswith("本次回放有 1 处文字按记录原样显示")
        app = build_app(state, factory, knowledge=fake_knowledge(), autorun=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            result = state.engine.results()["symptom.ping"]
            assert result.note == FACTLESS  # shown as recorded, not passed off as translated
            assert [n.message for n in app._notifications] == [state.notice]
