"""After a fix is applied, the verdict and every step agree, in the walk, the record and its export.

Found walking the firewall lab in the TUI: `f` then Apply turned the verdict healthy, but
the MTU step still said "small pings do not pass yet" and TCP/DNS "not needed:
firewall.guest_blocks already explains the failure". On the real lab because what goes
stale is what real checks concluded from the broken state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.slow]  # two walks on a real lab

SCENARIO = "firewall.guest_blocks"
STALE = (SCENARIO, "do not pass yet", "already explains")


def test_after_the_firewall_fix_no_step_speaks_of_the_broken_state(lab_prefix: str, tmp_path: Path) -> None:
    from vnetdoctor.commands._request import checked
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.report import render_markdown
    from vnetdoctor.session import Noted, Session, live_engine_factory
    from vnetdoctor.session.recorder import open_recorder
    from vnetdoctor.session.sinks import RecordSink
    from vnetdoctor.store import SessionStore

    instance = up(SCENARIO, lab_prefix)  # taken down by the lab_prefix fixture, also on failure
    request = checked(instance.request("en"), "en")
    db = tmp_path / "s.db"
    store, recorder = open_recorder(db, source="demo", scenario=SCENARIO)
    events: list[object] = []
    session = Session(request, live_engine_factory, sinks=[RecordSink(recorder), events.append])
    session.plan()
    broken = session.run()
    assert broken.causes and broken.causes[0].cause == SCENARIO, [c.cause for c in broken.causes]
    stale_before = [r.step for r in broken.steps if any(s in r.note for s in STALE[1:])]
    assert stale_before, "the broken walk skipped nothing: this test would prove nothing"
    (step,) = [r.step for r in broken.steps if any(f.cause == SCENARIO for f in r.findings)]
    fix = next(f for f in broken.causes[0].fixes if f.runnable)

    outcome = session.apply_fix(fix, step, timeout=10)  # re-runs its step, and the walk after it

    assert outcome.ok, outcome
    after = session.diagnosis()
    assert after.reachable is True and not any(f.cause == SCENARIO for f in after.causes)
    for result in after.steps:
        assert not any(s in result.note for s in STALE), (result.step, result.note)
    assert {r.step for r in after.steps} >= set(stale_before)  # re-run, not dropped
    assert [e.detail["step"] for e in events if isinstance(e, Noted) and e.kind == "rewalk"] == [step]
    assert recorder.close().complete and not recorder.errors
    store.close()

    with SessionStore(db, readonly=True) as reader:
        (record,) = [reader.load(s.id) for s in reader.sessions()]
    for result in record.latest_steps():  # what replay and export show
        assert not any(s in result.note for s in STALE), (result.step, result.note)
    assert record.verdict == after.verdict
    steps_table = render_markdown(record, lang="en").split("## ")
    table = next(part for part in steps_table if part.startswith("Steps"))
    assert not any(s in table for s in STALE[1:]), table
