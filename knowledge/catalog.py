"""The cause catalogue: every root cause vnetdoctor can name, loaded from ``data/causes.toml``.

A cause id (``firewall.guest_blocks``) is a public contract: it appears in
``diagnose --json``, in recorded sessions and in the docs. Everything the operator
reads about a cause lives in the data file, in English and Simplified Chinese: the
title, what is wrong and why it breaks ping, what proves it, a one-line summary
template, and the fixes: exact commands with their undo and an honest risk.

Fix commands are written as one command line over a fixed vocabulary of
placeholders (:data:`PLACEHOLDER_KINDS`). Values are data, never code: each template
is split into argv tokens once, with ``shlex.split``, when the catalogue loads, and a
value is then put into its token, never through a shell. A token that is exactly one
placeholder becomes exactly one argv element whatever the value holds (a firewall
rule's match, :class:`Words`, becomes several). A placeholder inside a larger token
(``oifname "{uplink}"``, ``<host mac='{mac}'/>``) is a value inside another language:
it is accepted only when it matches its kind's strict pattern. A value that is not
known, or not safe where it would go, makes the fix guidance: a
:class:`~.model.Fix` that names what is missing and that nothing runs or copies.

Rendering is forgiving by default and strict when ``VNETDOCTOR_STRICT_TEMPLATES=1``
(the test suite sets it): a diagnosis must never crash because a rule forgot a
variable, but a test must say which one (see :func:`strict_default`).

The data is validated once, when first used; a broken catalogue fails loudly on
that first use (and in the tests) rather than halfway through a diagnosis.

The code lives in :mod:`.catalog_templates` (placeholders, argv templates, value
checks), :mod:`.catalog_data` (loading, validation, lookup) and :mod:`.catalog_render`
(fixes, guidance, summaries); this module re-exports their names, so callers keep
importing from ``vnetdoctor.knowledge.catalog``.
"""

from __future__ import annotations

from vnetdoctor.probes.vocabulary import CAUSE_LAYERS

from .catalog_data import (
    CATALOG_LAYERS,
    GUIDANCE_KEYS,
    Cause,
    FixWords,
    _data_text,  # noqa: F401 (the raw data, for tests that parse it with other options)
    all_causes,
    cause_ids,
    causes_by_layer,
    get_cause,
    is_one_command,
    join_lines,
    parse_catalog,
    parse_fix_words,
)
from .catalog_render import (
    guidance_text,
    render_fix,
    render_fixes,
    render_summary,
    value_label,
)
from .catalog_templates import (
    JOINING_PROGRAMS,
    LAB_VALUES,
    PLACEHOLDER_KINDS,
    PLACEHOLDERS,
    RISKS,
    SUMMARY_PLACEHOLDERS,
    ArgvTemplate,
    CatalogError,
    FixTemplate,
    TemplateError,
    Token,
    UnknownCause,
    Words,
    compile_argv,
    is_known,
    placeholders_of,
    render_template,
    strict_default,
    value_words,
)

__all__ = [
    "CATALOG_LAYERS",
    "CAUSE_LAYERS",
    "GUIDANCE_KEYS",
    "JOINING_PROGRAMS",
    "LAB_VALUES",
    "PLACEHOLDERS",
    "PLACEHOLDER_KINDS",
    "RISKS",
    "SUMMARY_PLACEHOLDERS",
    "ArgvTemplate",
    "CatalogError",
    "Cause",
    "FixTemplate",
    "FixWords",
    "TemplateError",
    "Token",
    "UnknownCause",
    "Words",
    "all_causes",
    "cause_ids",
    "causes_by_layer",
    "compile_argv",
    "get_cause",
    "guidance_text",
    "is_known",
    "is_one_command",
    "join_lines",
    "parse_catalog",
    "parse_fix_words",
    "placeholders_of",
    "render_fix",
    "render_fixes",
    "render_summary",
    "render_template",
    "strict_default",
    "value_label",
    "value_words",
]
