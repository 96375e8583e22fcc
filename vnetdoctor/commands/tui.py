"""``vnetdoctor`` / ``vnetdoctor tui``: the full-screen assistant.

With ``--target`` or ``--guest`` the walk opens directly on that request; without,
the Start screen lets the operator pick the guest. The target options are
validated by the session's one request parser, as the Start screen's form is (same
rules, same words), and a bad value is one line and exit status 2 before any screen opens.
"""

from __future__ import annotations

import argparse
import dataclasses

from vnetdoctor.knowledge.model import Request

from . import _request


def request_from_args(args: argparse.Namespace, lang: str) -> Request | None:
    """The request ``tui``'s options describe, or None when they name none (the Start screen picks)."""
    return _request.request_from_args(args, lang, connect=False, optional=True)


def _discovery(args: argparse.Namespace, lang: str):  # type: ignore[no-untyped-def]
    """The Start screen's discovery (the session's) with --connect and --host applied."""
    import functools

    from vnetdoctor.session.targets import discover

    return functools.partial(discover, lang, connect=getattr(args, "connect", None), host=args.host or "local")


def open_recorder(args: argparse.Namespace, *, source: str, scenario: str | None = None):  # type: ignore[no-untyped-def]
    """The session store behind the write-behind recorder, or (None, None) with --no-record."""
    if getattr(args, "no_record", False):
        return None, None
    from vnetdoctor.session.recorder import open_recorder as open_session_recorder

    return open_session_recorder(args.db, source=source, scenario=scenario)


def run(args: argparse.Namespace) -> int:
    """SIGHUP/SIGTERM/SIGINT restore the terminal and mark the session interrupted (see interrupt)."""
    from vnetdoctor.interrupt import Interrupted, SignalGuard, interrupted_message
    from vnetdoctor.terminal_exit import say
    from vnetdoctor.knowledge.text import choose_lang
    from vnetdoctor.tui.launch import live_engine_factory, require_terminal, run_app
    from vnetdoctor.tui.state import SessionState

    lang = choose_lang(args.lang)
    request = request_from_args(args, lang)
    require_terminal()
    with SignalGuard():
        try:
            store, recorder = open_recorder(args, source="tui")
            state = SessionState(request=request, lang=lang, allow_changes=args.allow_changes,
                                 store=store)
            return run_app(state, live_engine_factory, recorder=recorder, discover_fn=_discovery(args, lang))
        except Interrupted as exc:  # before the App ran: nothing on screen to restore
            say(interrupted_message(exc.signum, lang))
            return exc.exit_code
