"""What a check sees while its step runs: the request, the probes, the shared facts.

The context records every observation a check asks for and every finding it
reports, so the step's result carries its own evidence, and renders causes
through the catalogue so the summary, the fixes and their undo come from
``data/causes.toml`` in the operator's language.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage

from . import text as translator
from .model import FAIL, PASS, SKIP, WARN, Evidence, Finding, Fix, Question, Request
from .observer import Observer


# Where an operator's answer comes from: no probe saw it, the operator said it (the verdict
# marks such a cause "(your answer)").
OPERATOR, OPERATOR_PROBE = "operator", "question"


@dataclass
class Shared:
    """Facts established once per diagnosis and read by later steps (path, trace)."""

    request: Request
    observer: Observer
    lang: str
    ask: Callable[[Question], str] | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """Compute a shared fact once (e.g. the path) even when two steps race for it."""
        with self.lock:
            if name not in self.facts:
                self.facts[name] = compute()
            return self.facts[name]


class StepContext:
    def __init__(self, shared: Shared, step_id: str, layer: str) -> None:
        self.shared = shared
        self.step_id = step_id
        self.layer = layer
        self.observations: list[Observation] = []
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.skipped: str | None = None
        self._concluded = False  # the skip reason is a fact drawn from observations: see skip()
        self.failed: str | None = None
        self.warned: str | None = None
        self.answer = ""
        # Observations behind shared facts this step used (the path): not dependencies of a
        # pass, but named in a skip note when they did not run.
        self._background: list[Observation] = []
        # (probe id, vantage or "") the check declared it can pass without: see optional().
        self._optional: set[tuple[str, str]] = set()

    # --- the request --------------------------------------------------------------
    @property
    def request(self) -> Request:
        return self.shared.request

    @property
    def lang(self) -> str:
        return self.shared.lang

    @property
    def host(self) -> Vantage:
        return self.shared.request.host

    @property
    def guest(self) -> Vantage | None:
        return self.shared.request.guest

    @property
    def target(self) -> str | None:
        return self.shared.facts.get("target") or self.shared.request.target

    @property
    def facts(self) -> dict[str, Any]:
        return self.shared.facts

    # --- words --------------------------------------------------------------------
    def t(self, key: str, /, **values: Any) -> str:
        """A note or evidence line from ``data/evidence.toml`` in the operator's language."""
        if isinstance(values.get("reason"), str):  # a probe's own words: in the operator's language
            values["reason"] = translator.probe_reason(values["reason"], self.lang)
        return translator.tr(key, self.lang, audience=self.shared.request.audience, **values)

    def join(self, items: Iterable[Any]) -> str:
        """A list in running text (``a, b`` / ``a、b``)."""
        return translator.join(items, self.lang)

    def join_clauses(self, items: Iterable[Any]) -> str:
        """Statements on one line (``a; b`` / ``a；b``)."""
        return translator.join_clauses(items, self.lang)

    # --- observing ----------------------------------------------------------------
    def observe(self, probe_id: str, vantage: Vantage, **params: Any) -> Observation:
        obs = self.shared.observer.observe(probe_id, vantage, **params)
        self.record(obs)
        return obs

    def record(self, obs: Observation) -> None:
        if all(o is not obs for o in self.observations):
            self.observations.append(obs)

    def prefetch(self, wanted: Iterable[tuple[str, Vantage, dict[str, Any]]]) -> None:
        self.shared.observer.prefetch(wanted)

    def background(self, obs: Observation) -> None:
        """An observation behind a shared fact this step relies on (the path's link and address lists).

        The symptom step, which works the path out first, keeps them as its own
        observations, as it always did; every step names them when it is skipped.
        """
        if self.step_id == "symptom.ping":
            self.record(obs)
        elif all(o is not obs for o in self._background):
            self._background.append(obs)

    def optional(self, probe_id: str, vantage: Vantage | str | None = None) -> None:
        """Declare that this step can pass on what ran without ``probe_id`` (at ``vantage``, or anywhere).

        Every observation a step records is otherwise a dependency of its pass: a
        probe skipped for a missing capability (or one that failed) means the step
        did not see what a pass would claim, so :meth:`status` makes it ``skip``.
        A check calls this only where its pass note says nothing the probe would
        have told (e.g. the counters read around the pings, which only sharpen a
        finding).
        """
        self._optional.add((probe_id, "" if vantage is None else str(vantage)))

    def unobserved(self) -> list[Observation]:
        """The observations this step depends on that did not run (skipped or failed)."""
        return [o for o in self.observations
                if not o.ok and (o.probe, "") not in self._optional and (o.probe, o.vantage) not in self._optional]

    def unobserved_note(self, said: str = "", behind: bool = False) -> str:
        """``skipped: needs CAP_NET_ADMIN (firewall.rules on local)``: one clause per reason.

        Reasons already in ``said`` (the check's own skip note) are left out; "" when
        that leaves none. The path's observations that did not run are named along
        when the check said why it stopped (``said``) or asks for them (``behind``).
        """
        by_reason: dict[str, list[str]] = {}
        behind_unseen = [o for o in self._background if not o.ok] if said or behind else []
        for obs in [*self.unobserved(), *behind_unseen]:
            reason = obs.reason or obs.status
            if said and (reason in said or translator.probe_reason(reason, self.lang) in said):
                continue
            what = self.t("context.probe_on", probe=obs.probe, vantage=obs.vantage)
            items = by_reason.setdefault(translator.probe_reason(reason, self.lang), [])
            if what not in items:
                items.append(what)
        clauses = [self.t("context.reason_for", reason=reason, probes=self.join(items))
                   for reason, items in by_reason.items()]
        return self.t("context.not_observed", reasons=self.join_clauses(clauses)) if clauses else ""

    # --- reporting ----------------------------------------------------------------
    def found(
        self,
        cause: str,
        *,
        evidence: Sequence[str | Evidence] = (),
        where: Vantage | None = None,
        severity: str = FAIL,
        fixes: Sequence[Fix] | None = None,
        fix_where: str | None = None,
        strict: bool | None = None,
        **template_vars: Any,
    ) -> Finding:
        """Name a cause: summary and fixes rendered from the catalogue with these vars."""
        from .checks_kernel import kernel_evidence
        from .render import render_finding

        finding = render_finding(
            cause,
            lang=self.lang,
            evidence=[*(self._sourced(e) for e in evidence), *kernel_evidence(self, cause)],
            where=where,
            severity=severity,
            fixes=fixes,
            template_vars=template_vars,
            fix_where=fix_where,
            strict=strict,
        )
        if all(f.cause != cause or f.summary != finding.summary for f in self.findings):
            self.findings.append(finding)
        return finding

    def _sourced(self, line: str | Evidence) -> Evidence:
        """A line of proof with where it came from, in --json and the detail view alike.

        A line the check built from what this step observed, without naming one probe,
        names the probes (and vantages) whose observations it was built from: the ones
        that ran, never one that was skipped. A line that already says its source keeps it.
        """
        ev = line if isinstance(line, Evidence) else Evidence(str(line))
        if ev.probe and ev.vantage:
            return ev
        seen = [o for o in (*self.observations, *self._background) if o.ok]
        if ev.probe:
            seen = [o for o in seen if o.probe == ev.probe] or seen
        probes = ev.probe or ", ".join(dict.fromkeys(o.probe for o in seen))
        vantages = ev.vantage or ", ".join(dict.fromkeys(o.vantage for o in seen if o.vantage))
        return Evidence(ev.text, probes, vantages)

    def warn(self, cause: str, **kwargs: Any) -> Finding:
        return self.found(cause, severity=WARN, **kwargs)

    def passed(self, note: str) -> None:
        self.notes.append(note)

    def note(self, note: str) -> None:
        self.notes.append(note)

    def skip(self, reason: str, *, concluded: bool = False) -> None:
        """Stop this step, saying why.

        ``concluded``: the reason is a fact the check drew from what this step and the
        path observed ("the path crosses no bridge on the host"), not a given of the
        request ("no --port given"). Nobody saw such a fact when an observation it rests
        on was skipped or failed (the path's link list, for want of CAP_SYS_ADMIN): the
        note is then only what did not run (see :meth:`summary_note`).
        """
        self.skipped = reason
        self._concluded = concluded

    def fail(self, note: str) -> None:
        """The step failed without naming a cause (the symptom step: 'no reply')."""
        self.failed = note

    def ask(self, text: str, choices: Sequence[str] = ("yes", "no", "unknown")) -> str:
        """Ask the operator (a question node); 'unknown' when nobody can answer."""
        if self.shared.ask is None:
            self.answer = "unknown"
            return self.answer
        answer = self.shared.ask(Question(self.step_id, text, tuple(choices)))
        self.answer = answer if answer in choices else "unknown"
        return self.answer

    def ask_node(self, where: Vantage | None = None, fix_where: str | None = None, **values: Any) -> None:
        """Ask this step's flowchart question and report what the answer means.

        The flowchart data says, per answer, the step's status, the guidance to show
        and the cause it confirms; a confirmed cause is rendered leniently (the
        operator's word carries no interface names or rule handles: a fix that needs one
        is guidance). ``fix_where``: the confirmed cause's fixes are for a place the tool
        cannot enter (the guest's console), see :func:`.render.render_finding`.
        """
        from .flowchart import step as flow_step

        node = flow_step(self.step_id)
        question = node.as_question(self.lang, **values)
        choice = self.ask(question.text, question.choices)
        if choice == "unknown" and "unknown" not in node.choices:
            self.skip(self.t("context.not_answered"))
            return
        answer = node.answer(choice)
        guidance = answer.guidance(self.lang, **values)
        label = node.choice_label(choice, self.lang)
        note = self.t("context.answer_guidance", choice=label, guidance=guidance) if guidance else label
        if answer.cause:
            said = Evidence(self.t("context.operator_said", answer=note), OPERATOR_PROBE, OPERATOR)
            self.found(answer.cause, evidence=[said], where=where,
                       severity=WARN if answer.status == WARN else FAIL, strict=False, fix_where=fix_where,
                       **values)
        elif answer.status == FAIL:
            self.fail(note)
        elif answer.status == WARN:
            self.warned = note
        elif answer.status == SKIP:
            self.skip(note)
        else:
            self.passed(note)

    def saw(self, text: str, probe_id: str, vantage: Vantage | str | None) -> Evidence:
        """``text`` as what ``probe_id`` saw at ``vantage`` when this step recorded that observation
        (and it ran); otherwise a plain line, which :meth:`found` attributes to what did run."""
        where = "" if vantage is None else str(vantage)
        for obs in (*self.observations, *self._background):
            if obs.ok and obs.probe == probe_id and obs.vantage == where:
                return Evidence(text, probe_id, where)
        return Evidence(text)

    def evidence(self, text: str, obs: Observation | None = None) -> Evidence:
        return Evidence(text, obs.probe if obs else "", obs.vantage if obs else "")

    # --- the verdict of the step ------------------------------------------------------
    def status(self) -> str:
        if any(f.severity == FAIL for f in self.findings) or self.failed is not None:
            return FAIL
        if self.findings or self.warned is not None:
            return WARN
        if self.skipped is not None:
            return SKIP
        if self.unobserved():
            return SKIP  # a pass would claim what the skipped or failed probes did not see
        return PASS

    def summary_note(self) -> str:
        if self.findings:
            return self.join_clauses(f.summary for f in self.findings)
        if self.failed is not None:
            return self.failed
        if self.warned is not None:
            return self.warned
        if self.skipped is not None and self._concluded:
            # A fact drawn from probes that did not run was not observed: say only what did not run.
            return self.unobserved_note(behind=True) or self.skipped
        if self.skipped is not None:
            # The check's own reason first; what did not run may be why it had to stop.
            more = self.unobserved_note(said=self.skipped)
            return self.join_clauses([self.skipped, more]) if more else self.skipped
        if self.unobserved():
            return self.unobserved_note()
        return self.join_clauses(self.notes)
