"""What the walk shows about a step or a cause, taken from the knowledge base.

Screens ask this small interface rather than importing the flowchart and the
catalogue directly, for two reasons: tests build the App from fixture data
(snapshots must not change when someone rewords an explanation), and a step the
knowledge base does not describe (a replay recorded by a newer vnetdoctor)
still renders, just without its explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StepInfo:
    """The operator-facing text of one flowchart step."""

    title: str
    explain: str
    by_hand: tuple[str, ...] = ()


class Knowledge(Protocol):
    def step_info(self, step_id: str, lang: str, values: Mapping[str, Any] | None = None) -> StepInfo | None:
        """The step's text; ``values`` fill the by-hand commands' placeholders ({target} …)."""


    def cause_title(self, cause: str, lang: str) -> str: ...


def _text(value: Any, lang: str) -> str:
    """A knowledge field as text: a callable ``f(lang)``, a ``{en, zh}`` mapping, or a string."""
    if callable(value):
        value = value(lang)
    if isinstance(value, Mapping):
        value = value.get(lang) or value.get("en", "")
    return str(value or "")


def _lines(value: Any, lang: str) -> tuple[str, ...]:
    """``by_hand`` as a tuple of command lines, whichever shape the flowchart gives it."""
    if value is None:
        return ()
    if callable(value) and not isinstance(value, (str, Mapping)):
        value = value(lang)
    if isinstance(value, Mapping):
        value = value.get(lang) or value.get("en") or ()
    if isinstance(value, str):
        return tuple(line for line in value.splitlines() if line.strip())
    if isinstance(value, Iterable):
        out: list[str] = []
        for item in value:
            out.extend(_lines(item, lang))
        return tuple(out)
    return (str(value),)


class FlowchartKnowledge:
    """The real knowledge base: ``vnetdoctor.knowledge.flowchart`` and ``.catalog``.

    Imported lazily: the modules load their TOML data on first use, which the
    App does in a worker-free handler only once per step (the result is cached).
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[Any, ...], StepInfo | None] = {}
        self._causes: dict[tuple[str, str], str] = {}

    def step_info(self, step_id: str, lang: str, values: Mapping[str, Any] | None = None) -> StepInfo | None:
        filled = tuple(sorted((k, str(v)) for k, v in (values or {}).items() if v not in (None, "")))
        key = (step_id, lang, filled)
        if key not in self._steps:
            self._steps[key] = self._load_step(step_id, lang, dict(filled))
        return self._steps[key]

    @staticmethod
    def _load_step(step_id: str, lang: str, values: Mapping[str, str]) -> StepInfo | None:
        from vnetdoctor.knowledge import flowchart

        try:
            step = flowchart.step(step_id)
        except LookupError:  # KeyError included: a step id this flowchart does not have
            return None
        if step is None:
            return None
        render = getattr(step, "by_hand_commands", None)
        by_hand = render(**values) if callable(render) else getattr(step, "by_hand", ())
        return StepInfo(
            title=_text(getattr(step, "title", ""), lang),
            explain=_text(getattr(step, "explain", ""), lang).strip(),
            by_hand=_lines(by_hand, lang),
        )

    def cause_title(self, cause: str, lang: str) -> str:
        key = (cause, lang)
        if key not in self._causes:
            from vnetdoctor.knowledge import catalog

            try:
                info = catalog.get_cause(cause)
                self._causes[key] = _text(getattr(info, "title", ""), lang)
            except LookupError:  # KeyError included: a cause id the catalogue does not have
                self._causes[key] = ""
        return self._causes[key]


def choice_label(step_id: str, choice: str, lang: str) -> str:
    """The operator's words for an answer: the flowchart node's own label, else the shared one.

    The flowchart is imported here, not at module level, for the same reason as for
    :class:`FlowchartKnowledge`: the TUI starts without loading the knowledge data.
    """
    from vnetdoctor.knowledge import flowchart
    from vnetdoctor.knowledge.text import CHOICE_LABELS, t

    try:
        return flowchart.step(step_id).choice_label(choice, lang) or choice
    except LookupError:  # KeyError included: a step id this flowchart does not have
        return t(CHOICE_LABELS.get(choice), lang) or choice
