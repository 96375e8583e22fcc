"""A recorded session with an answer, a fix applied and a healthy re-run, in a real store.

What a colleague opens the next morning: the guest-firewall walk (its symptom step
captured the echo requests dying at vnet0), the operator's answer, the fix applied
(exit 0), and the re-run of the firewall and symptom steps that came back healthy.
Recorded through :class:`vnetdoctor.store.SessionStore` in the order the session
records, so the replay's timeline is built from real step and event times.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from vnetdoctor.knowledge.model import PASS, Diagnosis
from vnetdoctor.probes.base import OK, Observation
from vnetdoctor.store import SessionStore

from tests.tui.support.engine import FIREWALL_FIX, REQUEST, TARGET, fake_knowledge, scenario_results
from tests.tui.support.views import lost_at_guest, round_trip

CAPTURE_PARAMS = (("filter", "icmp or arp"),)


def _capture(rows: list[Any]) -> Observation:
    return Observation(probe="capture.path", vantage="netns:vnd-host", status=OK, rows=tuple(rows),
                       raw="listened on br0@netns:vnd-host", params=CAPTURE_PARAMS, layer="datalink")


def record_fixed_session(db: Path) -> tuple[SessionStore, str]:
    """Record the fixed session; returns the (open, writable) store and its id."""
    first = scenario_results()
    first[0] = replace(first[0], observations=(*first[0].observations, _capture(lost_at_guest())))
    store = SessionStore(db)
    sid = store.start_session(REQUEST, source="tui", scenario="firewall.guest_blocks")
    for result in first:
        store.record_step(sid, result)
    store.finish_session(sid, Diagnosis(REQUEST, False, first[-3].findings, tuple(first), 1300.0, target=TARGET))
    store.record_event(sid, "fix_applied", {**FIREWALL_FIX.to_dict(), "step": "network.firewall",
                                             "returncode": 0, "output": ""})
    firewall = replace(first[-3], status=PASS, note="no rule drops our echo requests", findings=())
    symptom = replace(first[0], status=PASS, note="host → 198.18.0.11: 3 of 3 replies",
                      observations=(_capture([r for s in (1, 2, 3) for r in round_trip(4343, s, 1.0 + s * 0.2)]),))
    store.record_step(sid, firewall)
    store.record_step(sid, symptom)
    latest = {r.step: r for r in [*first, firewall, symptom]}
    steps = tuple(latest[r.step] for r in first)
    store.finish_session(sid, Diagnosis(REQUEST, True, (), steps, 1500.0, target=TARGET))
    return store, sid


def replay_app(store: SessionStore, sid: str, *, lang: str = "en") -> Any:
    """The App as ``vnetdoctor replay`` builds it, over the fake knowledge (fixed step texts)."""
    from vnetdoctor.commands.replay import replay_state
    from vnetdoctor.tui.launch import build_app

    state, factory = replay_state(store, sid, lang)  # frames read back after the verdict, as in production
    return build_app(state, factory, knowledge=fake_knowledge(), autorun=True)


__all__ = ["record_fixed_session", "replay_app"]
