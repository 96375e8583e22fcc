"""How a ``{name}`` template is filled: shared by the translator and the fix catalogue.

Every operator text (:mod:`.text`) and every fix, summary and note of the cause
catalogue (:mod:`.catalog_templates`) is a template whose facts arrive as plain
``{name}`` fields. One set of rules for both: only plain names (no format specs, so
a translator cannot break a template with ``{n:.1f}``), a value that is ``None`` or
``""`` shows as ``<name>`` (the rule knew the variable, not its value), and a name
nobody supplied raises in strict mode (``VNETDOCTOR_STRICT_TEMPLATES=1``, as the
tests set it) but shows as ``<name>`` in production, so a diagnosis never crashes over a word while every test proves each
call supplies what its template needs. A module of its own because the translator
and the catalogue both need it and neither may import the other at load.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from typing import Any

_STRICT_ENV = "VNETDOCTOR_STRICT_TEMPLATES"


class TemplateError(LookupError):
    """A template needs a placeholder nobody supplied (raised only in strict mode)."""

    def __init__(self, name: str, template: str, where: str) -> None:
        super().__init__(f"{where}: placeholder {{{name}}} not supplied for template {template!r}")
        self.name = name
        self.template = template


def strict_default() -> bool:
    """Whether a missing placeholder raises or is let through (``<name>`` in prose,
    guidance for a fix).

    An explicit setting, never a guess about who is running us:
    ``VNETDOCTOR_STRICT_TEMPLATES=1`` makes rendering strict, anything else (unset, ``0``)
    leaves it forgiving, as production must be. The test suite's ``tests/conftest.py``
    sets it, so every test that renders a finding proves the rule supplied all the
    variables its cause's templates use.
    """
    value = os.environ.get(_STRICT_ENV, "").strip().lower()
    return value not in ("", "0", "no", "false", "off")


def placeholders_of(template: str) -> frozenset[str]:
    """The field names ``template`` uses (``{{`` escapes excluded)."""
    names: set[str] = set()
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"only plain {{name}} fields are allowed, got {{{field}}}")
        names.add(field)
    return frozenset(names)


def render_template(template: str, values: Mapping[str, Any], *, strict: bool | None = None, where: str = "template") -> str:
    """Fill ``template`` from ``values``.

    A name missing from ``values`` raises :class:`TemplateError` in strict mode and
    renders as ``<name>`` otherwise; a value of ``None`` or ``""`` always renders as
    ``<name>`` (the rule knew the variable but not its value: the operator should
    see that, not an empty gap). Extra values are ignored: the engine passes one set
    of facts to every template of a cause.
    """
    strict = strict_default() if strict is None else strict
    out: list[str] = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        if field not in values:
            if strict:
                raise TemplateError(field, template, where)
            out.append(f"<{field}>")
            continue
        value = values[field]
        out.append(f"<{field}>" if value is None or value == "" else str(value))
    return "".join(out)
