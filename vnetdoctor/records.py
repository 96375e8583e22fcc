"""What a recorded session is once read back: summaries, events, whole sessions.

Kept apart from the SQLite code so that the report, the diff and the TUI's
replay can work on a :class:`RecordedSession` (from the store, or rebuilt from
an exported JSON record by :func:`record_from_json`) without caring where it
came from.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.convert import extra_from_json, extra_to_json, step_from_json
from vnetdoctor.knowledge.text import tr
from vnetdoctor.knowledge.model import Diagnosis, Finding, Request, StepResult
from vnetdoctor.probes.vantage import VantageError, parse_vantage
from vnetdoctor.probes.vocabulary import Verdict

# Session states as listed by ``sessions`` and carried by summaries.
FINISHED, INTERRUPTED, RUNNING = "finished", "interrupted", "running"


def document_verdict(doc: Mapping[str, Any] | None) -> Verdict:
    """The verdict of a stored ``diagnose --json`` document (None: the walk never finished).

    Decided again from the document's reachability and causes by the one rule
    (:meth:`Verdict.decide`), so records made before the field existed agree too.
    """
    if doc is None:
        return Verdict.NOT_RUN
    causes = doc.get("causes") or ()
    return Verdict.decide(doc.get("reachable"), (c.get("severity", "fail") for c in causes if isinstance(c, Mapping)))


def short_vantage(text: str | None) -> str:
    """``netns:NAME`` → ``NAME``, ``libvirt:DOM@URI`` → ``vm:DOM``: what fits a list's column."""
    if not text:
        return "—"
    try:
        vantage = parse_vantage(text)  # the vantage's own parser: a value, not a sentence
    except VantageError:
        return text
    if vantage.kind == "libvirt":
        return "vm:" + vantage.name
    return vantage.name or str(vantage)


@dataclass(frozen=True, order=True)
class SearchMatch:
    """Why a search found a session: its best (lowest) rank, what matched and the words.

    Kept as parts, not a sentence, so each screen says it in its own language
    (:func:`match_words`); :attr:`why` is the English line ``--json`` has always carried.
    """

    rank: int
    kind: str  # cause, target, host, guest, id, scenario, source, operator_note, operator_answer, step_answer, step_note
    value: str
    step: str = ""

    @property
    def why(self) -> str:
        return match_words(self, "en")


def match_words(match: SearchMatch, lang: str) -> str:
    """``cause firewall.guest_blocks`` / ``原因 firewall.guest_blocks``: why a session matched."""
    return tr(f"sessions.match.{match.kind}", lang, value=match.value, step=match.step)


def result_words(summary: SessionSummary, lang: str) -> str:
    """The result in a few words: the first cause and how many more, "fixed: CAUSE", or the state.

    One wording for the ``sessions`` table and the Sessions screen (``--json`` has all).
    """
    if summary.state in (RUNNING, INTERRUPTED):
        return tr(f"sessions.state.{summary.state}", lang)
    if summary.causes:
        return summary.causes[0] + (f" +{len(summary.causes) - 1}" if len(summary.causes) > 1 else "")
    if summary.fixed_by:
        more = f" +{len(summary.fixed_by) - 1}" if len(summary.fixed_by) > 1 else ""
        return tr("sessions.fixed", lang, cause=summary.fixed_by[0]) + more
    return tr(f"sessions.verdict.{summary.verdict}", lang)


@dataclass(frozen=True)
class SessionSummary:
    """One line of ``vnetdoctor sessions``: enough to pick a session, no steps."""

    id: str
    started: float
    finished: float | None
    source: str
    scenario: str | None
    target: str | None
    host: str
    guest: str | None
    from_side: str
    reachable: bool | None
    causes: tuple[str, ...]
    state: str  # finished | interrupted | running
    steps: int
    duration_ms: float | None
    verdict: Verdict = Verdict.NOT_RUN  # of the stored diagnosis; NOT_RUN while unfinished
    match: SearchMatch | None = None  # why a search found it; None: no search
    fixes_applied: tuple[str, ...] = ()  # commands of the fixes applied with success, in order
    fixed_by: tuple[str, ...] = ()  # causes a run found that an applied fix cleared (healthy after)

    @property
    def matched(self) -> str | None:
        """Why a search found it, in English ("cause firewall.guest_blocks"); None: no search."""
        return self.match.why if self.match is not None else None

    @property
    def path(self) -> str:
        """Host and guest with the ping's direction: ``host→guest``, or ``host←guest`` from the guest."""
        arrow = "←" if self.from_side == "guest" else "→"
        return f"{short_vantage(self.host)}{arrow}{short_vantage(self.guest)}"

    @property
    def result(self) -> str:
        """What the session concluded, in a few words: its verdict, or why it has none."""
        if self.state == RUNNING:
            return "running"
        if self.state == INTERRUPTED or self.verdict is Verdict.NOT_RUN:
            return "interrupted" + (f": {', '.join(self.causes)}" if self.causes else "")
        if self.verdict in (Verdict.CAUSE, Verdict.WARNINGS):
            return ", ".join(self.causes)
        if self.verdict is Verdict.HEALTHY:
            return f"reachable, fixed: {', '.join(self.fixed_by)}" if self.fixed_by else "reachable"
        if self.reachable is False:
            return "unreachable, no cause found"
        return "inconclusive"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": iso(self.started),
            "finished": iso(self.finished) if self.finished else None,
            "state": self.state,
            "source": self.source,
            "scenario": self.scenario,
            "target": self.target,
            "host": self.host,
            "guest": self.guest,
            "from": self.from_side,
            "reachable": self.reachable,
            "causes": list(self.causes),
            "steps": self.steps,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms),
            "verdict": str(self.verdict),
            "result": self.result,
            "fixes_applied": list(self.fixes_applied),
            "fixed_by": list(self.fixed_by),
            **({"matched": self.matched} if self.matched is not None else {}),
        }


@dataclass(frozen=True)
class RecordedEvent:
    """Something that happened besides a step: an operator answer, a fix applied, a note."""

    seq: int
    time: float
    kind: str
    detail: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": iso(self.time),
            "kind": self.kind,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True)
class RecordedSession:
    """Everything recorded about one session, rebuilt into the engine's own types."""

    id: str
    source: str
    scenario: str | None
    started: float
    finished: float | None
    state: str
    request: Request
    steps: tuple[StepResult, ...]
    events: tuple[RecordedEvent, ...] = ()
    diagnosis: dict[str, Any] | None = None  # the diagnose --json document; None if unfinished
    extra: Mapping[str, Any] = field(default_factory=dict)
    # When each step was recorded (the replay timeline merges steps and events by it); () if unknown.
    step_times: tuple[float | None, ...] = ()
    # Steps (indices) whose captured frames were left in the store (``load(with_packets=False)``).
    frames_left_out: tuple[int, ...] = ()

    @property
    def target(self) -> str | None:
        if self.diagnosis and self.diagnosis.get("target"):
            return self.diagnosis["target"]
        return self.request.target

    @property
    def reachable(self) -> bool | None:
        return self.diagnosis.get("reachable") if self.diagnosis else None

    @property
    def verdict(self) -> Verdict:
        """What the recorded diagnosis concluded; NOT_RUN if the session never finished."""
        return document_verdict(self.diagnosis)

    def causes(self) -> tuple[Finding, ...]:
        """The verdict's causes; for an unfinished session, what its steps found so far."""
        if self.diagnosis is not None:
            return tuple(Finding.from_dict(c) for c in self.diagnosis.get("causes", ()))
        seen: dict[str, Finding] = {}
        for step in self.steps:
            for finding in step.findings:
                seen.setdefault(finding.cause, finding)
        return tuple(seen.values())

    def fixed_by(self) -> tuple[str, ...]:
        """Causes a step found that an applied fix cleared: the session ended healthy after a fix.

        The same rule as the ``sessions`` list's "fixed: CAUSE" (store/reading.py), so a
        report of that session does not say only "reachable" and leave the cause and
        its fix to be pieced together from step notes and the operator's log.
        """
        applied = any(e.kind == "fix_applied" and isinstance(e.detail, Mapping) and e.detail.get("returncode") == 0
                      for e in self.events)
        if not applied or self.verdict is not Verdict.HEALTHY:
            return ()
        final = {f.cause for f in self.causes()}
        found = dict.fromkeys(f.cause for step in self.steps for f in step.findings)
        return tuple(c for c in found if c not in final)

    def latest_steps(self) -> tuple[StepResult, ...]:
        """One result per step id, the last one recorded (a step may be re-run), in first-run order."""
        latest: dict[str, StepResult] = {}
        for step in self.steps:
            latest[step.step] = step
        order = list(dict.fromkeys(s.step for s in self.steps))
        return tuple(latest[s] for s in order)

    def packets(self) -> list[Any]:
        """Every captured frame (PacketRow) of the session, in capture-time order."""
        frames = [
            r
            for step in self.steps
            for obs in step.observations
            for r in obs.rows
            if type(r).__name__ == "PacketRow"
        ]
        return sorted(frames, key=lambda r: r.time)

    def as_diagnosis(self) -> Diagnosis | None:
        """The :class:`Diagnosis` the engine produced, rebuilt (None if the session never finished)."""
        if self.diagnosis is None:
            return None
        d = self.diagnosis
        return Diagnosis(
            request=self.request,
            reachable=d.get("reachable"),
            causes=tuple(Finding.from_dict(c) for c in d.get("causes", ())),
            steps=self.steps,
            duration_ms=float(d.get("duration_ms") or 0.0),
            target=d.get("target"),
            extra=dict(self.extra),
        )

    def to_json(self) -> dict[str, Any]:
        """The raw record: the ``diagnose --json`` document plus observations, events and session facts."""
        if self.diagnosis is not None:
            doc = dict(self.diagnosis)
        else:
            req = self.request.to_dict()
            doc = {
                "schema": "vnetdoctor.diagnosis/1",
                "session_id": self.id,
                "target": self.target,
                "host": req["host"],
                "guest": req["guest"],
                "from": req["from"],
                "port": req["port"],
                "reachable": None,
                "verdict": str(Verdict.NOT_RUN),
                "causes": [f.to_dict() for f in self.causes()],
                "duration_ms": None,
            }
        doc["session_id"] = self.id
        doc["verdict"] = str(self.verdict)  # records made before the field had none
        doc["steps"] = [step_json(s) for s in self.steps]
        doc["record"] = {
            "schema": "vnetdoctor.session/1",
            "state": self.state,
            "source": self.source,
            "scenario": self.scenario,
            "started": iso(self.started),
            "finished": iso(self.finished) if self.finished else None,
            "request": self.request.to_dict(),
            "extra": extra_to_json(self.extra),
        }
        doc["events"] = [e.to_dict() for e in self.events]
        return doc


def record_from_json(doc: Mapping[str, Any]) -> RecordedSession:
    """Rebuild a session from its raw record (``export --format json``).

    The redacted Markdown report is rendered from the redacted record through
    this, so that report and record can never disagree on a pseudonym.
    """
    rec = doc.get("record") or {}
    steps = tuple(step_from_json(s) for s in doc.get("steps", ()))
    state = rec.get("state", FINISHED)
    diagnosis = None
    if state == FINISHED:
        diagnosis = {k: v for k, v in doc.items() if k not in ("record", "events")}
    events = tuple(
        RecordedEvent(
            e.get("seq", i), _fromiso(e.get("time")) or 0.0, e.get("kind", ""), e.get("detail", {})
        )
        for i, e in enumerate(doc.get("events", ()))
    )
    return RecordedSession(
        id=str(doc.get("session_id") or ""),
        source=rec.get("source", ""),
        scenario=rec.get("scenario"),
        started=_fromiso(rec.get("started")) or 0.0,
        finished=_fromiso(rec.get("finished")),
        state=state,
        request=Request.from_dict(
            rec.get("request") or {"target": doc.get("target"), "host": doc.get("host")}
        ),
        steps=steps,
        events=events,
        diagnosis=diagnosis,
        extra=extra_from_json(rec.get("extra")),
    )


def _fromiso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def step_json(step: StepResult) -> dict[str, Any]:
    """``StepResult.to_dict`` keeps milliseconds as an int; the record keeps them exact."""
    data = step.to_dict()
    data["duration_ms"] = step.duration_ms
    return data


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")
