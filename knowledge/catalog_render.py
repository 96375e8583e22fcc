"""Rendering a cause's fixes, guidance and one-line summary for a diagnosis.

Split out of :mod:`.catalog` because this is what the engine and the front ends call
with live values, and it is forgiving in production and strict in tests (see
:func:`~.catalog_templates.strict_default`), unlike loading, which always fails loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .catalog_data import (
    _fix_words,
    get_cause,
)
from .catalog_templates import (
    NO_UNDO,
    PLACEHOLDERS,
    FixTemplate,
    UnknownCause,
    is_known,
    render_template,
    strict_default,
)
from .model import MACHINE_WIDE, Fix
from .phrase import Phrase
from .text import join, t


def render_fix(template: FixTemplate, lang: str = "en", *, where: str = "", strict: bool | None = None, **values: Any) -> Fix:
    """One fix as a :class:`~.model.Fix`: its argv as run on the machine concerned.

    ``where`` (the vantage the fix runs in) is copied into the Fix; the engine adds
    the ``ip netns exec`` prefix itself (:func:`.render.in_vantage`). A value that is
    not known or not safe where it goes makes the fix guidance, naming it in
    ``missing``; a placeholder nobody supplied at all raises in strict mode (see
    :func:`render_template`).
    """
    strict = strict_default() if strict is None else strict
    label = f"cause {template.cause}: fix {template.command!r}"
    argv, missing = template.argv.fill(values, strict=strict, where=label)
    undo_argv, undo_missing = ((), []) if template.undo == NO_UNDO else template.undo_argv.fill(
        values, strict=strict, where=label)
    # The note is prose: a known value reads as it is; an unknown one by its name.
    prose = {k: (v if is_known(v) or k not in PLACEHOLDERS else f"<{value_label(k, lang)}>") for k, v in values.items()}
    note = Phrase(render_template(template.note(lang), prose, strict=strict, where=label),
                  {"fix_note": template.cause, "command": template.command, "values": prose})
    lacking = tuple(dict.fromkeys(missing + undo_missing))
    if lacking:
        return Fix.guidance(lacking, risk=template.risk, where=where, note=note)
    return Fix.of(argv, undo_argv, risk=template.risk, where=where, note=note)


def render_fixes(cause_id: str, lang: str = "en", *, where: str = "", strict: bool | None = None, **values: Any) -> tuple[Fix, ...]:
    """Every fix of a cause, rendered (``when`` filtering is the caller's business)."""
    return tuple(render_fix(f, lang, where=where, strict=strict, **values) for f in get_cause(cause_id).fixes)


def value_label(name: str, lang: str = "en") -> str:
    """What a placeholder holds, for the operator (``interface name``); the name itself if unlabelled."""
    label = _fix_words().labels.get(name)
    return t(label, lang) if label is not None else name


def guidance_text(fix: Fix, lang: str = "en") -> str:
    """The line that stands where a guidance fix's command would: what it needs.

    Empty for a runnable fix. A fix recorded before fixes were argv is shown as it was
    recorded, and said to be unchecked.
    """
    if fix.runnable:
        return ""
    words = _fix_words()
    if fix.missing == (MACHINE_WIDE,) and fix.command:
        return t(words.guidance["machine_wide"], lang).format(command=fix.command, where=fix.where)
    if fix.missing or not fix.command:
        names = join((value_label(m, lang) for m in fix.missing), lang) or "?"
        return t(words.guidance["needs"], lang).format(names=names)
    return t(words.guidance["recorded"], lang).format(command=fix.command)


def render_summary(cause_id: str, lang: str = "en", *, strict: bool | None = None, **values: Any) -> str:
    """The one-line summary of a finding, e.g. ``vnet0 is DOWN on netns:lab-host``.

    An unknown cause id raises in strict mode; in production it renders as the id
    itself so the diagnosis still reports something.
    """
    strict = strict_default() if strict is None else strict
    try:
        cause = get_cause(cause_id)
    except UnknownCause:
        if strict:
            raise
        return cause_id
    text = render_template(cause.summary_template(lang), values, strict=strict, where=f"cause {cause_id}: summary")
    return Phrase(text, {"summary": cause_id, "values": values})


def render_note(cause_id: str, command: str, lang: str, values: Mapping[str, Any]) -> str:
    """A fix's note said again in ``lang`` from its recorded facts (the fix named by its template)."""
    template = next((f for f in get_cause(cause_id).fixes if f.command == command), None)
    if template is None:
        raise LookupError(f"cause {cause_id} has no fix {command!r} any more")
    text = render_template(template.note(lang), values, strict=False, where=f"cause {cause_id}: fix note")
    return Phrase(text, {"fix_note": cause_id, "command": command, "values": dict(values)})
