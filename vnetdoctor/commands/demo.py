"""``vnetdoctor demo [SCENARIO]``: a fault in the lab, and the assistant opened on it.

What a new user runs first: it needs nothing but root. The scenario (default:
the guest's firewall dropping ping) is built in network namespaces, the walk
runs on it by itself, the session is recorded, and the lab is taken down again
when the operator quits, also when anything fails on the way.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import sys
import threading

from vnetdoctor.probes.errors import UsageError

DEFAULT_SCENARIO = "firewall.guest_blocks"


def _scenario(name: str | None):  # type: ignore[no-untyped-def]
    from vnetdoctor.lab.scenarios import SCENARIOS

    name = name or DEFAULT_SCENARIO
    scenario = SCENARIOS.get(name)
    if scenario is None:
        from vnetdoctor.knowledge.text import tr

        close = [n for n in SCENARIOS if name.lower() in n.lower()][:5]
        if close:  # made in English, said again in --lang by the command line (a phrase)
            raise UsageError(tr("labcli.unknown_scenario_close", name=repr(name), close=", ".join(close)))
        raise UsageError(tr("labcli.unknown_scenario", name=repr(name)))
    return scenario


def run(args: argparse.Namespace) -> int:
    from vnetdoctor.knowledge.text import choose_lang, tr
    from vnetdoctor.lab.kernel import ROOT_REASON, is_privileged

    if not is_privileged():
        raise UsageError(ROOT_REASON)
    scenario = _scenario(args.scenario)
    lang = choose_lang(args.lang)
    if not args.no_tui:
        from vnetdoctor.tui.launch import require_terminal

        require_terminal()  # before building anything: a script gets its one line at once
    from vnetdoctor.interrupt import Interrupted, SignalGuard, interrupted_message
    from vnetdoctor.terminal_exit import say
    from vnetdoctor.lab.lifecycle import lab_exists

    from vnetdoctor.lab.ops import LabError

    try:
        existing = lab_exists(args.prefix)  # also checks the prefix: names are made from it
    except LabError as exc:
        raise UsageError(*exc.args) from None  # a phrase: said again in --lang
    if existing:  # checked here too, so that a lab that is not ours is never taken down below
        raise UsageError(tr("labcli.already_up", prefix=repr(args.prefix), what=existing[0],
                            command=f"vnetdoctor lab down --prefix {args.prefix}"))
    # SIGHUP (an SSH drop), SIGTERM and SIGINT: while the lab is being built they unwind
    # through the finally below; while the TUI runs it exits properly first; if it cannot,
    # the guard's watchdog takes the lab down itself before ending the process.
    with SignalGuard() as guard:
        guard.on_emergency("lab down", lambda: _down(args.prefix, lang))
        try:
            return _run_lab(args, scenario, lang)
        except Interrupted as exc:
            say(interrupted_message(exc.signum, lang))
            return exc.exit_code


def _run_lab(args: argparse.Namespace, scenario, lang: str) -> int:  # type: ignore[no-untyped-def]
    """Build the lab, run the walk on it, and take the lab down whatever happens."""
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.lab.ops import LabError

    from ._request import checked

    owned = True  # set before up(): a signal between up() returning and an assignment is covered
    try:
        try:
            instance = up(scenario.name, args.prefix)
        except LabError as exc:
            owned = False  # up() has taken down what it built before raising
            raise UsageError(*exc.args) from None
        from vnetdoctor.knowledge.text import tr

        print(tr("labcli.demo_up", lang, prefix=repr(args.prefix), description=scenario.describe(lang)),
              file=sys.stderr)
        # The lab's scenario yields a Request, checked by the session's rules like any other.
        request = checked(replace(instance.request(lang), trace_rules=bool(getattr(args, "trace_rules", False))),
                          lang)
        if args.no_tui:
            return _diagnose(request, args)
        return _tui(request, args, lang, scenario.name)
    finally:
        if owned:
            _down(args.prefix, lang)


_DOWN_LOCK = threading.Lock()


def _down(prefix: str, lang: str = "en") -> None:
    """Take the lab down once, whichever of the command and the signal watchdog gets here first."""
    from vnetdoctor.terminal_exit import say
    from vnetdoctor.knowledge.text import error_text, tr
    from vnetdoctor.lab.lifecycle import down, lab_exists
    from vnetdoctor.lab.ops import LabError

    with _DOWN_LOCK:
        if not lab_exists(prefix):
            return
        try:
            down(prefix)
            say(tr("labcli.demo_down", lang, prefix=repr(prefix)))  # also when the terminal is gone
        except LabError as exc:
            say(f"vnetdoctor demo: {error_text(exc, lang)}")


def _diagnose(request, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """``--no-tui``: exactly what ``vnetdoctor diagnose`` prints for this lab."""
    from vnetdoctor.commands import diagnose

    return diagnose.diagnose(request, db=args.db, record=True)


def _tui(request, args: argparse.Namespace, lang: str, scenario: str) -> int:  # type: ignore[no-untyped-def]
    from vnetdoctor.commands.tui import open_recorder
    from vnetdoctor.tui.launch import run_app
    from vnetdoctor.tui.state import SessionState
    from vnetdoctor.session import live_engine_factory

    store, recorder = open_recorder(args, source="demo", scenario=scenario)
    state = SessionState(request=request, lang=lang, store=store, scenario=scenario,
                         allow_changes=args.allow_changes)
    return run_app(state, live_engine_factory, recorder=recorder, autorun=True)
