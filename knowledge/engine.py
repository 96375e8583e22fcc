"""The engine: walks the layered flowchart for one request and names the root cause.

It runs the symptom check first (ping both ways with captures on the path), then
each step's check in layer order; config probes for both ends are started at
once and concurrently, so most checks find their facts already there. When a step
names a cause that explains an unreachable target, the steps of higher layers are
skipped ("already explained"): a lower layer's fault makes their evidence noise.
Every step is announced as it starts and as it finishes, so the TUI and the
session store can follow along (and nothing completed is lost if the run dies).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from vnetdoctor.probes.base import Observation, load_all
from vnetdoctor.probes.vantage import Vantage

from . import flowchart
from .checks import CHECKS, load_checks
from .checks_kernel import name_unexplained
from .context import Shared, StepContext
from vnetdoctor.probes.vocabulary import LAYER_ORDER, layer_rank

from .events import AskFn, DiagnosisReady, EngineEvent, EventSink, PlannedStep, StepFinished, StepStarted
from .text import tr
from .model import FAIL, SKIP, Diagnosis, Request, StepResult
from .observer import Observer
from .path import PathPoint

SYMPTOM = "symptom.ping"

# What every check may want from both ends: started in the background at once.
CONFIG_PROBES = ("link.list", "addr.list", "neigh.list", "bridge.list", "bridge.ports", "bridge.fdb",
                 "sysctl.net", "firewall.rules")


class Engine:
    def __init__(
        self,
        request: Request,
        *,
        ask: AskFn | None = None,
        on_event: EventSink | None = None,
        observer: Observer | None = None,
        exhaustive: bool = False,
    ) -> None:
        load_all()
        load_checks()
        for vantage in (request.host, request.guest):
            if vantage is not None and vantage.kind == "libvirt":
                importlib.import_module("vnetdoctor.probes.libvirt")  # registers its probes
        self.request = request
        self.exhaustive = exhaustive
        self._emit: EventSink = on_event or (lambda event: None)
        self._shared = Shared(request, observer or Observer(), request.lang, ask)
        self._steps = flowchart.steps()
        self._results: dict[str, StepResult] = {}
        self._lock = threading.RLock()
        self._busy_ms = 0.0  # time spent walking in the latest run, not waiting for the operator
        # What that time is the time of (Diagnosis.extra["took"]): the whole walk, the steps run
        # one by one, or a re-run and the steps it walked again; "took" is said as what it is.
        self._took: dict[str, Any] = {}
        self._prefetched = False

    # --- EngineLike -------------------------------------------------------------------
    def plan(self) -> list[PlannedStep]:
        return [PlannedStep(s.id, s.layer, s.title(self.request.lang), s.kind) for s in self._steps]

    def results(self) -> dict[str, StepResult]:
        with self._lock:
            return dict(self._results)

    def observe(self, probe_id: str, vantage: Vantage, refresh: bool = False, **params: Any) -> Observation:
        """One observation through this diagnosis's observer (the Tables screen asks here)."""
        return self._shared.observer.observe(probe_id, vantage, refresh=refresh, **params)

    def path_points(self) -> list[tuple[Vantage, str]]:
        path = self._shared.facts.get("path")
        return path.capture_points() if path is not None else []

    def run_step(self, step_id: str) -> StepResult:
        """Run one step now; a re-run forgets what was observed so the facts are fresh."""
        with self._lock:
            rerun = step_id in self._results
            if rerun:
                self._forget_all()
                self._results.pop(SYMPTOM, None)
                self._busy_ms = 0.0  # "took" is the re-run's, not the time since the first walk
                self._took = {"run": "rerun", "step": step_id, "n": 1 if step_id == SYMPTOM else 2}
            elif self._took.get("run") != "steps":
                self._took = {"run": "steps"}  # step by step: the steps' time, not the pauses between
            started = time.perf_counter()
            try:
                self.prefetch()
                if step_id != SYMPTOM and SYMPTOM not in self._results:
                    self._run_one(SYMPTOM)
                return self._run_one(step_id)
            finally:
                self._busy_ms += (time.perf_counter() - started) * 1000

    def run(self) -> Diagnosis:
        """The whole walk; a second one starts afresh (what the first saw may have changed)."""
        started = time.perf_counter()
        with self._lock:
            if self._results:
                self._forget_all()
                self._results.clear()
        self.prefetch()
        self._walk(self._steps)
        self._busy_ms = (time.perf_counter() - started) * 1000
        self._took = {"run": "walk"}
        diagnosis = self.diagnosis()
        self._emit(DiagnosisReady(diagnosis))
        return diagnosis

    def rewalk(self, step_ids: list[str]) -> None:
        """Run these steps again, in walk order, on what is observed now.

        After a re-run changed the outcome (a fix made the target reachable, or a cause
        is gone), the other steps' results describe the broken state: "not needed: X
        already explains it", "small pings do not pass yet". The re-run left the facts
        and the observer fresh, so these steps see the same present as it did.
        """
        started = time.perf_counter()
        wanted = set(step_ids)
        todo = [s for s in self._steps if s.id in wanted]
        with self._lock:
            for step in todo:
                self._results.pop(step.id, None)
        self._walk(todo)
        self._busy_ms += (time.perf_counter() - started) * 1000
        if self._took.get("run") == "rerun":  # the re-run's own walk: its time and its steps
            self._took["n"] = self._took.get("n", 0) + len(todo)

    def _walk(self, steps: Sequence[flowchart.Step]) -> None:
        for step in steps:
            explained = self._explained_below(step.layer)
            if explained is not None and not self.exhaustive:
                self._finish(StepResult(step.id, step.layer, step.title(self.request.lang), SKIP,
                                        note=tr("engine.not_needed", self.request.lang, cause=explained)))
                continue
            self._run_one(step.id)
        self._name_arp_fallback()
        self._name_kernel_drops()

    def _forget_all(self) -> None:
        """Drop every observation and fact (and prefetch again): the next step sees the present."""
        self._shared.observer.forget()
        self._shared.facts.clear()
        self._prefetched = False

    def diagnosis(self) -> Diagnosis:
        with self._lock:
            ordered = [self._results[s.id] for s in self._steps if s.id in self._results]
        causes = [f for r in ordered for f in r.findings]
        causes.sort(key=lambda f: (layer_rank(f.layer), f.severity != FAIL))
        trace = self._shared.facts.get("trace")
        path = self._shared.facts.get("path")
        extra: dict[str, Any] = {}
        if path is not None:
            extra["path"] = tuple(PathPoint(h.side, h.iface) for h in path.hops)
        if self._took:
            extra["took"] = dict(self._took)
        return Diagnosis(
            request=self.request,
            reachable=trace.reachable if trace is not None else None,
            causes=tuple(causes),
            steps=tuple(ordered),
            duration_ms=self._busy_ms,
            target=self._shared.facts.get("target") or self.request.target,
            extra=extra,
        )

    # --- internals ----------------------------------------------------------------------
    def prefetch(self) -> None:
        """Start the config probes of both ends, and warm scapy up, in the background."""
        if self._prefetched:
            return
        self._prefetched = True
        wanted: list[tuple[str, Vantage, dict[str, Any]]] = []
        for vantage in (self.request.host, self.request.guest):
            if vantage is not None:
                wanted += [(p, vantage, {}) for p in CONFIG_PROBES]
        self._shared.observer.prefetch(wanted)
        threading.Thread(target=_warm_scapy, name="scapy-warmup", daemon=True).start()

    def _run_one(self, step_id: str) -> StepResult:
        step = flowchart.step(step_id)
        title = step.title(self.request.lang)
        self._emit(StepStarted(step_id))
        started = time.perf_counter()
        ctx = StepContext(self._shared, step_id, step.layer)
        fn = CHECKS.get(step_id)
        if fn is None:
            ctx.skip(ctx.t("engine.no_check"))
        else:
            try:
                fn(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken check must not end the walk
                ctx.findings.clear()
                ctx.skip(ctx.t("engine.check_failed", error=f"{type(exc).__name__}: {exc}").splitlines()[0])
        result = StepResult(
            step=step_id,
            layer=step.layer,
            title=title,
            status=ctx.status(),
            note=ctx.summary_note(),
            duration_ms=(time.perf_counter() - started) * 1000,
            observations=tuple(ctx.observations),
            findings=tuple(ctx.findings),
            answer=ctx.answer,
        )
        return self._finish(result)

    def _finish(self, result: StepResult) -> StepResult:
        with self._lock:
            self._results[result.step] = result
            # Later checks may weigh their own finding against what is already named.
            self._shared.facts["named"] = [
                (r.layer, f.cause, f.severity) for r in self._results.values() for f in r.findings
            ]
        self._emit(StepFinished(result))
        return result

    def _explained_below(self, layer: str) -> str | None:
        trace = self._shared.facts.get("trace")
        if trace is None or trace.reachable is not False or layer == "symptom":
            return None
        with self._lock:
            for r in self._results.values():
                for f in r.findings:
                    if f.severity == FAIL and layer_rank(r.layer) < layer_rank(layer):
                        return f.cause
        return None

    def _name_arp_fallback(self) -> None:
        """``arp.unresolved`` only when the walk found nothing more specific."""
        facts = self._shared.facts.get("arp_unresolved")
        trace = self._shared.facts.get("trace")
        if not facts or trace is None or trace.reachable is not False:
            return
        with self._lock:
            if any(f.severity == FAIL for r in self._results.values() for f in r.findings):
                return
            step = self._results.get("datalink.arp")
        if step is None:
            return
        ctx = StepContext(self._shared, step.step, step.layer)
        ctx.found("arp.unresolved", evidence=facts["evidence"], where=facts["sender"], ip=facts["ip"],
                  dev=facts["dev"], mac=facts.get("mac", ""), state=facts.get("state", "INCOMPLETE"))
        self._finish(StepResult(step.step, step.layer, step.title, FAIL, note=ctx.summary_note(),
                                duration_ms=step.duration_ms, observations=step.observations,
                                findings=tuple(ctx.findings), answer=step.answer))


    def _name_kernel_drops(self) -> None:
        """A drop the kernel reported that no named cause explains is a cause of its own
        (checks_kernel); it joins the symptom step, whose pings the kernel watched."""
        with self._lock:
            step = self._results.get(SYMPTOM)
            named = [f for r in self._results.values() for f in r.findings]
        if step is None:
            return
        ctx = StepContext(self._shared, step.step, step.layer)
        if not name_unexplained(ctx, named):
            return
        self._finish(StepResult(step.step, step.layer, step.title, FAIL, note=step.note,
                                duration_ms=step.duration_ms, observations=step.observations,
                                findings=(*step.findings, *ctx.findings), answer=step.answer))


def _warm_scapy() -> None:
    try:
        import scapy.layers.inet  # noqa: F401
        import scapy.layers.l2  # noqa: F401
    except Exception:  # noqa: BLE001 - the probes report it when they need scapy
        pass


__all__ = ["Engine", "EngineEvent", "LAYER_ORDER"]
