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
from vnetdoctor.knowledge.text import choose_lang, display_width, join, pad, probe_reason, tr, wrap
from vnetdoctor.probes.errors import UsageError


def run(args: Namespace) -> int:
    action = args.lab_command
    if action == "list":
        return _list(args)
    from vnetdoctor.lab import kernel

    if not kernel.is_privileged():
        raise UsageError(kernel.ROOT_REASON)
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
        said = tr("lablist.not_runnable", lang, names=names, reason=probe_reason(reason, lang))
        print("\n" + "\n".join(wrap(said, width)))
    return 0


def _up(args: Namespace) -> int:
    from vnetdoctor.lab import SCENARIOS, LabError, up

    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        raise UsageError(f"unknown scenario {args.scenario!r} (see: vnetdoctor lab list)")
    start = time.perf_counter()
    try:
        inst = up(args.scenario, args.prefix)
    except LabError as exc:
        raise UsageError(str(exc)) from None
    elapsed = time.perf_counter() - start
    lang = choose_lang(getattr(args, "lang", None))
    cause = f"cause {scenario.cause}" if scenario.cause else "no fault"
    print(f"lab {inst.prefix!r} is up: {scenario.name} ({cause}, topology {scenario.topology}) in {elapsed:.2f} s")
    print(f"  {scenario.describe(lang)}")
    print(f"  namespaces: {' '.join(inst.namespaces)}")
    if scenario.notes:
        print(f"  note: {scenario.notes}")
    print("  expected:")
    for check in inst.checks():
        print(f"    {check.describe()}")
    command = ["vnetdoctor", "diagnose", *inst.diagnose_args()]
    print("diagnose it with:")
    print("  " + " ".join(shlex.quote(a) for a in command))
    print("take it down with:")
    print("  " + " ".join(shlex.quote(a) for a in ["vnetdoctor", "lab", "down", "--prefix", inst.prefix]))
    sys.stdout.flush()
    return 0


def _down(args: Namespace) -> int:
    from vnetdoctor.lab import LabError, down

    try:
        removed = down(args.prefix)
    except LabError as exc:
        raise UsageError(str(exc)) from None
    if not removed:
        print(f"nothing of a lab with prefix {args.prefix!r} was found")
    for line in removed:
        print(line)
    return 0
