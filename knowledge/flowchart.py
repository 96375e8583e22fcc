"""The layered flowchart operators follow by hand, as data: ``data/flowchart.toml``.

Troubleshooting by hand walks the same ladder: confirm the symptom, look at the
virtualisation platform, then physical -> data link -> network -> transport ->
application. Each rung is a :class:`Step` with a fixed id that the engine's checks
implement; this module only says what each step is, why an operator looks there,
which commands they would type, which causes it can name, and, for the places no
probe can see (a link LED, a guest without agent), the question to ask and what
each answer means.

Loaded once, validated against the cause catalogue: every step's causes must exist
and every cause must be named by exactly one step, so a cause can never fall
between two steps or be reported twice.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from vnetdoctor.probes.vocabulary import LAYER_ORDER

from . import catalog
from .model import FAIL, PASS, SKIP, WARN, Question
from .text import CHOICE_LABELS, Localized, t


PROBE, QUESTION = "probe", "question"
KINDS = (PROBE, QUESTION)

# When the engine asks a question node (it decides whether the condition holds):
ASK_WHEN: Mapping[str, str] = {
    "always": "every walk",
    "uplink_no_carrier": "a physical uplink on the path has no carrier",
    "guest_blind": "the guest cannot be inspected from inside (no netns, no guest agent)",
    "adapter_not_inspectable": "no probe can read the VM adapter's attachment (not a libvirt guest)",
}

ANSWER_STATUSES = (PASS, WARN, FAIL, SKIP)
# by_hand commands and question texts may use the fix vocabulary (and where the question runs).
STEP_PLACEHOLDERS: frozenset[str] = catalog.PLACEHOLDERS | {"where"}


class FlowchartError(ValueError):
    """The flowchart data is malformed or disagrees with the cause catalogue."""


@dataclass(frozen=True)
class Answer:
    """What one answer to a question node means: a confirmed cause, or guidance, or both."""

    choice: str
    status: str  # pass | warn | fail | skip: the step's status after this answer
    cause: str | None
    guidance_text: Localized
    label_text: Localized

    def label(self, lang: str = "en") -> str:
        return t(self.label_text, lang)

    def guidance(self, lang: str = "en", **values: Any) -> str:
        return catalog.render_template(t(self.guidance_text, lang), values, strict=False)


@dataclass(frozen=True)
class Step:
    """One rung of the walk."""

    id: str
    layer: str
    kind: str  # probe | question
    title_text: Localized
    explain_text: Localized
    by_hand: tuple[str, ...]
    causes: tuple[str, ...]
    question_text: Localized | None = None
    choices: tuple[str, ...] = ()
    answers: tuple[Answer, ...] = ()
    ask_when: str = ""

    @property
    def is_question(self) -> bool:
        return self.kind == QUESTION

    def title(self, lang: str = "en") -> str:
        return t(self.title_text, lang)

    def explain(self, lang: str = "en") -> str:
        return t(self.explain_text, lang)

    def question(self, lang: str = "en", **values: Any) -> str:
        """The question text with what is known filled in (unknowns show as ``<name>``)."""
        if self.question_text is None:
            return ""
        return catalog.render_template(t(self.question_text, lang), values, strict=False)

    def by_hand_commands(self, **values: Any) -> tuple[str, ...]:
        """The by-hand commands with what is known filled in, ready to copy."""
        return tuple(catalog.render_template(cmd, values, strict=False) for cmd in self.by_hand)

    def answer(self, choice: str) -> Answer:
        for answer in self.answers:
            if answer.choice == choice:
                return answer
        raise KeyError(f"step {self.id}: no answer {choice!r} (choices: {', '.join(self.choices)})")

    def choice_label(self, choice: str, lang: str = "en") -> str:
        return self.answer(choice).label(lang)

    @property
    def on_answer(self) -> dict[str, str]:
        """Choice -> the cause id that answer confirms (``""`` when it confirms none).

        The short form; :meth:`answer` gives the whole :class:`Answer` (the step's
        status after it, and the guidance to show).
        """
        return {a.choice: a.cause or "" for a in self.answers}

    def as_question(self, lang: str = "en", **values: Any) -> Question:
        """The :class:`~.model.Question` the engine hands to whoever answers."""
        return Question(step=self.id, text=self.question(lang, **values), choices=self.choices)


# ------------------------------------------------------------------------------ loading


@cache
def _flowchart() -> tuple[Step, ...]:
    text = resources.files(__package__).joinpath("data", "flowchart.toml").read_text(encoding="utf-8")
    return parse_flowchart(text)


def parse_flowchart(text: str, cause_ids: frozenset[str] | None = None) -> tuple[Step, ...]:
    """Parse and validate a flowchart (public for tests of bad data).

    ``cause_ids`` defaults to the shipped catalogue's ids.
    """
    known = frozenset(catalog.cause_ids()) if cause_ids is None else cause_ids
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlowchartError(f"flowchart.toml: {exc}") from exc
    steps = tuple(_parse_step(raw, i, known) for i, raw in enumerate(data.get("step", ())))
    if not steps:
        raise FlowchartError("flowchart.toml: no [[step]] entries")
    _check_walk(steps, known)
    return steps


def _text(raw: Mapping[str, Any], name: str, where: str, allowed: frozenset[str]) -> Localized:
    try:
        value = Localized.from_data(raw.get(name), f"{where}: {name}")
    except (TypeError, ValueError) as exc:
        raise FlowchartError(str(exc)) from exc
    value = Localized(catalog.join_lines(value.en), catalog.join_lines(value.zh))
    if not (value.en and value.zh):
        raise FlowchartError(f"{where}: {name} is empty in one language")
    for lang in ("en", "zh"):
        try:
            names = catalog.placeholders_of(value[lang])
        except ValueError as exc:
            raise FlowchartError(f"{where}: {name} ({lang}): {exc}") from exc
        if names - allowed:
            raise FlowchartError(f"{where}: {name} ({lang}) uses {sorted(names - allowed)}")
    return value


def _parse_step(raw: Mapping[str, Any], index: int, known: frozenset[str]) -> Step:
    sid = raw.get("id")
    if not isinstance(sid, str) or not sid:
        raise FlowchartError(f"step #{index + 1}: missing id")
    where = f"step {sid}"
    fields = {"id", "layer", "kind", "title", "explain", "by_hand", "causes", "question", "choices", "on_answer", "ask_when"}
    if set(raw) - fields:
        raise FlowchartError(f"{where}: unknown field(s) {sorted(set(raw) - fields)}")
    layer, kind = raw.get("layer"), raw.get("kind")
    if layer not in LAYER_ORDER:
        raise FlowchartError(f"{where}: layer {layer!r} is not one of {', '.join(LAYER_ORDER)}")
    if not sid.startswith(f"{layer}."):
        raise FlowchartError(f"{where}: the id must start with its layer ({layer}.)")
    if kind not in KINDS:
        raise FlowchartError(f"{where}: kind {kind!r} is not one of {KINDS}")
    by_hand = raw.get("by_hand", [])
    if not isinstance(by_hand, list) or not by_hand or not all(isinstance(c, str) and c.strip() for c in by_hand):
        raise FlowchartError(f"{where}: by_hand must be a non-empty list of commands")
    for command in by_hand:
        try:
            names = catalog.placeholders_of(command)
        except ValueError as exc:
            raise FlowchartError(f"{where}: by_hand {command!r}: {exc}") from exc
        if names - STEP_PLACEHOLDERS:
            raise FlowchartError(f"{where}: by_hand {command!r} uses {sorted(names - STEP_PLACEHOLDERS)}")
    causes = raw.get("causes")
    if not isinstance(causes, list) or not all(isinstance(c, str) for c in causes):
        raise FlowchartError(f"{where}: causes must be a list of cause ids")
    for cause in causes:
        if cause not in known:
            raise FlowchartError(f"{where}: unknown cause {cause!r}")
    step = Step(
        id=sid,
        layer=layer,
        kind=kind,
        title_text=_text(raw, "title", where, frozenset()),
        explain_text=_text(raw, "explain", where, frozenset()),
        by_hand=tuple(c.strip() for c in by_hand),
        causes=tuple(causes),
    )
    if kind == PROBE:
        extra = {"question", "choices", "on_answer", "ask_when"} & set(raw)
        if extra:
            raise FlowchartError(f"{where}: a probe step has no {sorted(extra)}")
        return step
    return _parse_question(step, raw, where, known)


def _parse_question(step: Step, raw: Mapping[str, Any], where: str, known: frozenset[str]) -> Step:
    ask_when = raw.get("ask_when", "always")
    if ask_when not in ASK_WHEN:
        raise FlowchartError(f"{where}: ask_when {ask_when!r} is not one of {sorted(ASK_WHEN)}")
    question = _text(raw, "question", where, STEP_PLACEHOLDERS)
    choices = raw.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
        raise FlowchartError(f"{where}: a question needs at least two choices")
    if len(set(choices)) != len(choices):
        raise FlowchartError(f"{where}: duplicate choices")
    on_answer = raw.get("on_answer")
    if not isinstance(on_answer, Mapping):
        raise FlowchartError(f"{where}: a question needs [step.on_answer.CHOICE] tables")
    if set(on_answer) != set(choices):
        raise FlowchartError(
            f"{where}: on_answer covers {sorted(on_answer)} but the choices are {sorted(choices)}"
        )
    answers = tuple(_parse_answer(choice, on_answer[choice], f"{where}: answer {choice}", known) for choice in choices)
    return Step(
        id=step.id,
        layer=step.layer,
        kind=step.kind,
        title_text=step.title_text,
        explain_text=step.explain_text,
        by_hand=step.by_hand,
        causes=step.causes,
        question_text=question,
        choices=tuple(choices),
        answers=answers,
        ask_when=ask_when,
    )


def _parse_answer(choice: str, raw: Any, where: str, known: frozenset[str]) -> Answer:
    if not isinstance(raw, Mapping):
        raise FlowchartError(f"{where}: expected a table")
    if set(raw) - {"status", "cause", "guidance", "label"}:
        raise FlowchartError(f"{where}: unknown field(s) {sorted(set(raw) - {'status', 'cause', 'guidance', 'label'})}")
    status = raw.get("status")
    if status not in ANSWER_STATUSES:
        raise FlowchartError(f"{where}: status {status!r} is not one of {ANSWER_STATUSES}")
    cause = raw.get("cause")
    if cause is not None and cause not in known:
        raise FlowchartError(f"{where}: unknown cause {cause!r}")
    if cause is not None and status != FAIL:
        raise FlowchartError(f"{where}: an answer that confirms a cause must have status fail")
    guidance = _text(raw, "guidance", where, STEP_PLACEHOLDERS) if "guidance" in raw else Localized("", "")
    if cause is None and not guidance.en:
        raise FlowchartError(f"{where}: an answer needs a cause or guidance")
    if "label" in raw:
        label = _text(raw, "label", where, frozenset())
    elif choice in CHOICE_LABELS:
        label = CHOICE_LABELS[choice]
    else:
        raise FlowchartError(f"{where}: a choice other than yes/no/unknown needs a label")
    return Answer(choice=choice, status=status, cause=cause, guidance_text=guidance, label_text=label)


def _check_walk(steps: tuple[Step, ...], known: frozenset[str]) -> None:
    ids = [s.id for s in steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise FlowchartError(f"flowchart.toml: step(s) defined twice: {duplicates}")
    ranks = [LAYER_ORDER.index(s.layer) for s in steps]
    if ranks != sorted(ranks):
        raise FlowchartError("flowchart.toml: steps are not in walk order " + " -> ".join(LAYER_ORDER))
    named: dict[str, list[str]] = {}
    for step in steps:
        for cause in step.causes:
            named.setdefault(cause, []).append(step.id)
    twice = {c: s for c, s in named.items() if len(s) > 1}
    if twice:
        raise FlowchartError(f"flowchart.toml: cause(s) named by more than one step: {twice}")
    orphans = sorted(known - set(named))
    if orphans:
        raise FlowchartError(f"flowchart.toml: cause(s) named by no step: {orphans}")


# ------------------------------------------------------------------------------ queries


def steps() -> tuple[Step, ...]:
    """Every step, in walk order."""
    return _flowchart()


def step(step_id: str) -> Step:
    for item in _flowchart():
        if item.id == step_id:
            return item
    raise KeyError(f"unknown flowchart step {step_id!r}")


def step_ids() -> tuple[str, ...]:
    return tuple(s.id for s in _flowchart())


def steps_in(layer: str) -> tuple[Step, ...]:
    return tuple(s for s in _flowchart() if s.layer == layer)


def step_for_cause(cause_id: str) -> Step:
    """The one step whose check names ``cause_id``."""
    for item in _flowchart():
        if cause_id in item.causes:
            return item
    raise KeyError(f"no flowchart step names cause {cause_id!r}")


def questions() -> tuple[Step, ...]:
    return tuple(s for s in _flowchart() if s.is_question)
