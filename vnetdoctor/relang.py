"""A recorded session said in one language: what an export in another language than the walk's shows.

The walk records its evidence, notes and summaries as sentences in the operator's
language, each with the facts it was made from (:mod:`vnetdoctor.knowledge.phrase`).
An export asked for in the other language renders those facts again, so a
zh-recorded session exported with ``--lang en`` is English throughout, evidence
included. Nothing is re-observed or re-decided: the causes, the verdict, the rows
and the fixes' commands are the record's own; only the words change.

A text recorded without its facts (a sentence glued from pieces, or a record made
before texts kept them) cannot be said again: it is shown as it was recorded, and
:attr:`InLanguage.kept` counts it so the export says so in one line instead of
passing the other language off as a translation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vnetdoctor.knowledge import flowchart
from vnetdoctor.knowledge.model import Finding, Fix, StepResult
from vnetdoctor.knowledge.text import in_lang, tr
from vnetdoctor.records import RecordedSession


@dataclass(frozen=True)
class InLanguage:
    """The session with its texts in ``lang``, and how many stayed as recorded."""

    session: RecordedSession
    lang: str
    recorded_lang: str
    kept: int

    def notice(self, key: str = "report.kept_as_recorded") -> str:
        """One line for the export (or, with ``replay.kept_as_recorded``, the replay) when
        texts stayed in the recorded language; "" otherwise."""
        if not self.kept:
            return ""
        return tr(key, self.lang, n=self.kept,
                  recorded=tr(f"report.lang_{self.recorded_lang}", self.lang))


class _Sayer:
    """Says each recorded text in ``lang``; counts those it cannot (only when the language differs)."""

    def __init__(self, lang: str, differs: bool) -> None:
        self.lang = lang
        self.differs = differs
        self.kept = 0

    def text(self, text: str) -> str:
        if not text or not self.differs:
            return text
        said, ok = in_lang(text, self.lang)
        if not ok:
            self.kept += 1
        return said

    def fix(self, fix: Fix) -> Fix:
        then = tuple(self.fix(step) for step in fix.then)
        return dataclasses.replace(fix, note=self.text(fix.note), then=then)

    def finding(self, finding: Finding) -> Finding:
        return dataclasses.replace(
            finding,
            summary=self.text(finding.summary),
            evidence=tuple(dataclasses.replace(e, text=self.text(e.text)) for e in finding.evidence),
            fixes=tuple(self.fix(f) for f in finding.fixes),
        )

    def title(self, step: StepResult) -> str:
        if not self.differs:
            return step.title
        try:
            return flowchart.step(step.step).title(self.lang)
        except KeyError:  # a step this version no longer has: its recorded title
            return self.text(step.title)

    def step(self, step: StepResult) -> StepResult:
        return dataclasses.replace(
            step,
            title=self.title(step),
            note=self.text(step.note),
            findings=tuple(self.finding(f) for f in step.findings),
        )

    def cause_doc(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**doc, **self.finding(Finding.from_dict(doc)).to_dict()}


def in_language(session: RecordedSession, lang: str) -> InLanguage:
    """``session`` with every recorded text said in ``lang`` where its facts allow."""
    recorded = session.request.lang or "en"
    sayer = _Sayer(lang, differs=recorded != lang)
    steps = tuple(sayer.step(s) for s in session.steps)
    diagnosis = session.diagnosis
    if diagnosis is not None and sayer.differs:
        diagnosis = {**diagnosis, "causes": [sayer.cause_doc(c) for c in diagnosis.get("causes", ())]}
    said = dataclasses.replace(session, steps=steps, diagnosis=diagnosis)
    return InLanguage(said, lang, recorded, sayer.kept)
