"""The timeline of a recorded session: every step, answer, fix and re-run, in the order they happened.

A colleague replaying yesterday's session wants to see *how* it went, not only
where it ended: the walk that found the firewall rule, the fix applied, what it
returned, and the re-run that came back healthy. The record keeps steps and
events in two tables, each with its own clock; this module merges them into one
ordered list of :class:`Moment` and says what the session looked like after any
of them (:meth:`Timeline.at`): the latest result of each step so far, the
observations made so far, and the verdict those results support — never the
final verdict at a point before the run that produced it.

Headless (no Textual): the replay engine steers it, screens only render it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.knowledge.model import FAIL, PASS, Diagnosis, Finding, Request, StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vocabulary import layer_rank

from .sinks import OBSERVATION

# Moment kinds (the timeline's vocabulary; the TUI names each in the operator's language).
STEP, RERUN, ANSWER, FIX_OFFERED, FIX_APPLIED, FIX_UNDONE, OTHER = (
    "step", "rerun", "answer", "fix_offered", "fix_applied", "fix_undone", "other")
# Recorded event kinds shown as moments; "observation" (a Tables look) is served, not shown.
_EVENT_KINDS = {"answer": ANSWER, "fix_applied": FIX_APPLIED, "fix_undone": FIX_UNDONE, "fix_undo": FIX_UNDONE,
                "undo_applied": FIX_UNDONE, "fix_copied": OTHER, "fix_cancelled": OTHER, "error": OTHER}


@dataclass(frozen=True)
class Moment:
    """One thing that happened: a step's result (``step``/``rerun``), an answer, a fix offered/applied/undone."""

    kind: str
    time: float | None
    step: str | None = None
    result: StepResult | None = None  # for step and rerun moments
    detail: Mapping[str, Any] = field(default_factory=dict)  # the recorded event's detail
    run: int = 0  # for step moments: 0 the first walk's result of this step, 1 its first re-run, …
    step_index: int | None = None  # for step moments: its place among the record's steps (frames are keyed by it)
    event: str = ""  # the recorded event kind (``fix_copied``, ``error`` …) for OTHER moments

    @property
    def ok(self) -> bool | None:
        """A fix's outcome: True for exit status 0, False otherwise, None when not a fix that ran."""
        if self.kind not in (FIX_APPLIED, FIX_UNDONE) or "returncode" not in self.detail:
            return None
        return self.detail.get("returncode") == 0


@dataclass(frozen=True)
class Frame:
    """The session as it stood right after moment ``position - 1`` (position 0: before anything)."""

    position: int
    total: int
    results: dict[str, StepResult]
    observations: tuple[Observation, ...]  # steps' observations, then those made outside a step
    diagnosis: Diagnosis
    complete: bool  # every step of the walk has a result at this point
    at_end: bool


class Timeline:
    """The recorded moments in order, and the state of the session after any of them."""

    def __init__(self, request: Request, moments: Sequence[Moment], *, final: Diagnosis | None = None,
                 observations: Sequence[tuple[float | None, Observation]] = ()) -> None:
        self.request = request
        self.moments = tuple(moments)
        self._final = final
        self._observations = tuple(observations)
        self._steps = list(dict.fromkeys(m.step for m in self.moments if m.result is not None and m.step))

    def __len__(self) -> int:
        return len(self.moments)

    @property
    def step_ids(self) -> list[str]:
        """Every step that ran, in the order it first ran (the walk's plan in a replay)."""
        return list(self._steps)

    def runs(self) -> int:
        """How many walks the record holds: 1, plus one per re-run of the symptom step (or whole walk)."""
        return 1 + max((m.run for m in self.moments if m.result is not None), default=0)

    def at(self, position: int) -> Frame:
        position = max(0, min(position, len(self.moments)))
        done = self.moments[:position]
        results: dict[str, StepResult] = {}
        for m in done:
            if m.result is not None and m.step:
                results[m.step] = m.result
        until = done[-1].time if done else None
        seen_outside = tuple(o for t, o in self._observations
                             if position == len(self.moments) or (until is not None and t is not None and t <= until))
        observations = (*(o for r in results.values() for o in r.observations), *seen_outside)
        at_end = position == len(self.moments)
        complete = bool(self._steps) and set(self._steps) <= set(results)
        started = self._rerun_started(position)
        # Mid-re-run, the results mix two runs ("✓ reachable" from the new one beside the old
        # run's cause): the verdict stays the one the last whole run supported, as it did live.
        diagnosis = self.at(started).diagnosis if started is not None else self._diagnosis(results, at_end)
        return Frame(position, len(self.moments), results, observations, diagnosis, complete, at_end)

    def _rerun_started(self, position: int) -> int | None:
        """Where the re-run going on at ``position`` began, or None when none is half-way.

        A re-run is a block of consecutive re-run moments (a fix's re-walk, ``a``); it is
        half-way when the moments on both sides of ``position`` belong to it.
        """
        moments = self.moments
        if not 0 < position < len(moments) or moments[position - 1].kind != RERUN or moments[position].kind != RERUN:
            return None
        start = position - 1
        while start > 0 and moments[start - 1].kind == RERUN:
            start -= 1
        return start

    def _diagnosis(self, results: Mapping[str, StepResult], at_end: bool) -> Diagnosis:
        """The recorded verdict at the end; before it, only what the results so far found."""
        if at_end and self._final is not None:
            return self._final
        fed = [results[s] for s in self._steps if s in results]
        causes: list[Finding] = sorted((f for s in fed for f in s.findings),
                                       key=lambda f: (layer_rank(f.layer), f.severity != FAIL))
        symptom = next((r for r in fed if r.layer == "symptom"), None)
        status = symptom.status if symptom is not None else None
        reachable = True if status == PASS else False if status == FAIL else None
        return Diagnosis(request=self.request, reachable=reachable, causes=tuple(causes), steps=tuple(fed),
                         duration_ms=sum(s.duration_ms for s in fed),
                         target=self._final.target if self._final is not None else self.request.target)


def build_timeline(recorded: Any) -> Timeline:
    """The moments of a :class:`~vnetdoctor.records.RecordedSession`, merged by the time each was recorded.

    A record without step times (an exported JSON record) lists its steps first and
    its events after them, in their own order: nothing is dropped, only the
    interleaving is unknown.
    """
    times: Sequence[float | None] = tuple(getattr(recorded, "step_times", ()) or ())
    seen: dict[str, int] = {}
    timed: list[tuple[float, int, int, Moment]] = []  # (time, tie-break, order, moment)
    order = 0
    for i, step in enumerate(recorded.steps):
        run = seen.get(step.step, 0)
        seen[step.step] = run + 1
        t = times[i] if i < len(times) else None
        timed.append((_sort_time(t), 1, order, Moment(RERUN if run else STEP, t, step.step, step, run=run,
                                                        step_index=i)))
        order += 1
        for finding in step.findings:
            for fix in finding.fixes:
                timed.append((_sort_time(t), 1, order, Moment(FIX_OFFERED, t, step.step,
                                                                detail={**fix.to_dict(), "cause": finding.cause})))
                order += 1
    observations: list[tuple[float | None, Observation]] = []
    for event in getattr(recorded, "events", ()):
        t = event.time if times else None
        if event.kind == OBSERVATION:
            try:
                observations.append((t, Observation.from_dict(event.detail)))
            except (KeyError, TypeError, ValueError):
                pass  # an event this version cannot read serves nothing, never a crash
            continue
        kind = _EVENT_KINDS.get(event.kind, OTHER)
        step = event.detail.get("step") if hasattr(event.detail, "get") else None
        # An answer is given while its step runs: it comes before the step's result at the same instant.
        timed.append((_sort_time(t), 0 if kind == ANSWER else 2, order,
                      Moment(kind, t, step if isinstance(step, str) else None, detail=dict(event.detail),
                             event=event.kind)))
        order += 1
    timed.sort(key=lambda x: (x[0], x[1] if x[0] != float("inf") else 0, x[2]))
    return Timeline(recorded.request, [m for *_, m in timed], final=recorded.as_diagnosis(),
                    observations=observations)


def _sort_time(t: float | None) -> float:
    return float("inf") if t is None else t


__all__ = ["ANSWER", "FIX_APPLIED", "FIX_OFFERED", "FIX_UNDONE", "OTHER", "RERUN", "STEP", "Frame", "Moment",
           "Timeline", "build_timeline"]
