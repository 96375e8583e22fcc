"""``vnetdoctor causes [ID] [--json] [--lang en|zh]``: the cause catalogue, or one cause.

The table is what an operator scans to learn what vnetdoctor can name: grouped by
layer, one line per cause (id, whether the fault lab reproduces it, title), and
it fits an 80-column console in both languages (a CJK character counts two
columns). ``--json`` is for scripts and docs: every field, fixes included, in the
chosen language, with the fix commands left as templates. ``causes ID`` is what a
new operator types after reading an id in the table (or in a report): that cause in
full — why ping breaks, what proves it, its fixes — without reading JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

from vnetdoctor.commands._stdout import emit
from vnetdoctor.knowledge import catalog
from vnetdoctor.knowledge.text import (
    LAB_NAMES,
    choose_lang,
    display_width,
    layer_name,
    pad,
    risk_name,
    t,
    tr,
    wrap,
)

WIDTH = 80
INDENT = "  "
GAP = "  "

def run(args: argparse.Namespace) -> int:
    lang = choose_lang(getattr(args, "lang", None))
    if getattr(args, "cause", None):
        cause = find_cause(args.cause, lang)
        if getattr(args, "json", False):
            emit(json.dumps(cause.to_dict(lang), ensure_ascii=False, indent=2) + "\n")
        else:
            emit("".join(line.rstrip() + "\n" for line in cause_lines(cause, lang)))
        return 0
    if getattr(args, "json", False):
        document = json.dumps([c.to_dict(lang) for c in catalog.all_causes()], ensure_ascii=False, indent=2)
        emit(document + "\n")
    else:
        emit("".join(line.rstrip() + "\n" for line in table_lines(lang)))
    return 0


def table_lines(lang: str, width: int = WIDTH) -> Iterator[str]:
    """The catalogue as lines of at most ``width`` terminal columns."""
    causes = catalog.all_causes()
    head_id, head_lab, head_title = (tr(f"causes.head_{c}", lang) for c in ("id", "lab", "title"))
    id_width = max(display_width(head_id), *(display_width(c.id) for c in causes))
    lab_width = max(display_width(head_lab), *(display_width(t(name, lang)) for name in LAB_NAMES.values()))
    title_col = len(INDENT) + id_width + len(GAP) + lab_width + len(GAP)
    title_width = width - title_col
    if title_width < 16:
        raise ValueError(f"{width} columns are too narrow for the catalogue table")

    yield from wrap(tr("causes.intro", lang, n=len(causes)), width)
    yield ""
    yield INDENT + pad(head_id, id_width) + GAP + pad(head_lab, lab_width) + GAP + head_title
    for layer, group in catalog.causes_by_layer().items():
        yield ""
        yield layer_name(layer, lang)
        for cause in group:
            title_lines = wrap(cause.title(lang), title_width)
            lab = t(LAB_NAMES[cause.lab], lang)
            yield INDENT + pad(cause.id, id_width) + GAP + pad(lab, lab_width) + GAP + title_lines[0]
            for more in title_lines[1:]:
                yield " " * title_col + more
    yield ""
    yield from wrap(tr("causes.legend", lang), width)


def find_cause(ref: str, lang: str) -> catalog.Cause:
    """The cause whose id is ``ref`` or starts with it; bad input is a one-line UsageError."""
    from vnetdoctor.probes.errors import UsageError

    ids = [c.id for c in catalog.all_causes()]
    found = [i for i in ids if i == ref] or [i for i in ids if i.startswith(ref)]
    if len(found) == 1:
        return catalog.get_cause(found[0])
    if not found:
        raise UsageError(tr("causes.unknown", lang, id=ref))
    raise UsageError(tr("causes.ambiguous", lang, id=ref, ids=", ".join(found)))


def cause_lines(cause: catalog.Cause, lang: str, width: int = WIDTH) -> Iterator[str]:
    """One cause in full, in ``width`` columns: the fix commands stay whole (they are copied)."""
    yield f"{cause.id} — {cause.title(lang)}"
    yield tr("causes.meta", lang, layer=layer_name(cause.layer, lang), lab=t(LAB_NAMES[cause.lab], lang))
    for key, text in (("why", cause.explanation(lang)), ("proof", cause.proof(lang))):
        yield ""
        yield tr(f"causes.{key}", lang)
        yield from (INDENT + line for line in wrap(text, width - len(INDENT)))
    yield ""
    if not cause.fixes:
        yield from wrap(tr("causes.no_fix", lang), width)
        return
    yield from wrap(tr("causes.fixes", lang), width)
    for n, fix in enumerate(cause.fixes, 1):
        yield ""
        yield INDENT + tr("causes.fix_n", lang, n=n, risk=risk_name(fix.risk, lang))
        yield INDENT * 2 + fix.command
        if fix.undo:
            yield INDENT * 2 + tr("causes.undo", lang, command=fix.undo)
        yield from (INDENT * 2 + line for line in wrap(fix.note(lang), width - 2 * len(INDENT)))
