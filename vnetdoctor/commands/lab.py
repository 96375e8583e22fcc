"""``vnetdoctor lab list|up|down``: the fault lab from the command line.

``list`` works for anyone; ``up`` and ``down`` need root and say so in one line
(exit 2) otherwise, as does a scenario this kernel cannot run.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from argparse import Namespace

from vnetdoctor.commands._stdout import output_width
from vnetdoctor.knowledge.text import choose_lang, display_width, error_text, in_lang, join, pad, probe_reason, tr, wrap
from vnetdoctor.probes.errors import UsageError


def run(args: Namespace) -> int:
    action = args.lab_command
    if action == "list":
        return _list(args)
    from vnetdoctor.lab import kernel

    if not kernel.is_privileged():
        raise UsageError(kernel.ROOT_REASON)  # a phrase: main() says it in --lang
    if action == "up":
        return _up(args)
    if action == "down":
        return _down(args)
    raise UsageError(f"unknown lab action {action!r}")


DESCRIPTION_BESIDE = 40  # columns the description needs to sit beside its row


def _list(args: Namespace) -> int:
    from vnetdoctor.lab import SCENARIOS

    if args.json:
        doc = {"schema": "vnetdoctor.lab-scenarios/1", "scenarios": [s.to_dict() for s in SCENARIOS.values()]}
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    lang = choose_lang(getattr(args, "lang", None))
    width = output_width() or 1 << 30  # a file or a pipe: no clipping
    rows = []
    for s in SCENARIOS.values():
        reason = s.available()
        ok = tr("lablist.yes" if reason is None else "lablist.no", lang)
        rows.append((s.name, s.cause or "-", s.topology, ok, s.describe(lang), reason))
    heads = [tr(f"lablist.{k}", lang) for k in ("scenario", "cause", "topology", "runs", "description")]
    widths = [max(display_width(x) for x in [heads[i], *(r[i] for r in rows)]) for i in range(4)]
    lead = sum(widths) + 2 * 4
    # A terminal too narrow for the description beside the row (80 columns is) gets it
    # on the lines below, wrapped and indented: a line the terminal wraps mid-word is
    # unreadable, and a description clipped to a few words says nothing.
    below = width - lead < DESCRIPTION_BESIDE
    print("  ".join(pad(h, w) for h, w in zip(heads, widths)).rstrip() + ("" if below else "  " + heads[4]))
    for *cells, text, _reason in rows:
        row = "  ".join(pad(c, w) for c, w in zip(cells, widths))
        if below:
            print(row.rstrip())
            print("\n".join("    " + line for line in wrap(text, width - 4)))
        else:
            print(row + "  " + text)
    for reason in sorted({r[5] for r in rows if r[5]}):
        names = join((r[0] for r in rows if r[5] == reason), lang)
        said = tr("lablist.not_runnable", lang, names=names, reason=reason_text(reason, lang))
        print("\n" + "\n".join(wrap(said, width)))
    return 0


def reason_text(reason: str, lang: str) -> str:
    """Why a scenario cannot run here, in ``lang``: the lab's own reasons are phrases
    (said again), a probe's fixed words go through :func:`probe_reason`."""
    said, again = in_lang(reason, lang)
    return said if again else probe_reason(reason, lang)


def _up(args: Namespace) -> int:
    from vnetdoctor.lab import SCENARIOS, LabError, up

    lang = choose_lang(getattr(args, "lang", None))
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        raise UsageError(tr("labcli.unknown_scenario", lang, name=repr(args.scenario)))
    start = time.perf_counter()
    try:
        inst = up(args.scenario, args.prefix)
    except LabError as exc:
        raise UsageError(error_text(exc, lang)) from None
    elapsed = time.perf_counter() - start
    what = tr("labcli.cause", lang, cause=scenario.cause) if scenario.cause else tr("labcli.no_fault", lang)
    print(tr("labcli.up", lang, prefix=repr(inst.prefix), name=scenario.name, what=what,
             topology=scenario.topology, seconds=f"{elapsed:.2f}"))
    print(f"  {scenario.describe(lang)}")
    print(tr("labcli.namespaces", lang, names=" ".join(inst.namespaces)))
    if scenario.note():
        print(tr("labcli.note", lang, note=scenario.note(lang)))
    print(tr("labcli.expected", lang))
    for check in inst.checks():
        print(f"    {check.describe(lang)}")
    print(tr("labcli.diagnose_with", lang))
    print("  " + shlex.join(["vnetdoctor", "diagnose", *inst.diagnose_args()]))
    print(tr("labcli.down_with", lang))
    print("  " + shlex.join(["vnetdoctor", "lab", "down", "--prefix", inst.prefix]))
    sys.stdout.flush()
    return 0


def _down(args: Namespace) -> int:
    from vnetdoctor.lab import LabError, down

    lang = choose_lang(getattr(args, "lang", None))
    try:
        removed = down(args.prefix, lang)
    except LabError as exc:
        raise UsageError(error_text(exc, lang)) from None
    if not removed:
        print(tr("labcli.nothing_found", lang, prefix=repr(args.prefix)))
    for line in removed:
        print(line)
    return 0
