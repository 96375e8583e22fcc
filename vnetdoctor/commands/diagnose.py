"""``vnetdoctor diagnose``: the whole walk without the TUI, for scripts and fleets.

Exit status (cli.md): 0 reachable and no cause; 1 at least one cause named;
3 unreachable but no cause identified; 2 bad input or the tool could not run.

Without root it still runs: every probe that needs no privilege runs, the others
are reported as skipped with the capability they need (CAP_NET_RAW for the pings,
CAP_NET_ADMIN for firewall rules, CAP_SYS_ADMIN to enter a ``netns:`` vantage),
and a walk that this leaves unexplained ends inconclusive (3), never with a cause
or a pass it did not observe.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from typing import Any

from vnetdoctor.knowledge.model import Diagnosis, Question, Request


def build_request(args: argparse.Namespace) -> Request:
    """The target options through the session's one parser (libvirt asked too); one UsageError line."""
    from vnetdoctor.knowledge.text import choose_lang

    from ._request import request_from_args

    request = request_from_args(args, choose_lang(getattr(args, "lang", None)), connect=True)
    assert request is not None  # not optional: a missing target is an error
    return request


def exit_status(d: Diagnosis) -> int:
    """The exit status of cli.md, derived from the one verdict the report and JSON show."""
    return d.verdict.exit_status


def ask_on_terminal(q: Question) -> str:
    """--interactive: ask on stderr, read stdin; anything unexpected counts as unknown."""
    sys.stderr.write(f"\n? {q.text} [{'/'.join(q.choices)}] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer if answer in q.choices else "unknown"


def open_recorder(db: str | None, *, source: str, scenario: str | None = None):  # type: ignore[no-untyped-def]
    """The recorder both front ends record through; a database too busy even to open costs
    the record, never the diagnosis (said on stderr)."""
    from vnetdoctor.session.recorder import open_recorder as open_session_recorder
    from vnetdoctor.store import StoreBusy

    try:
        return open_session_recorder(db, source=source, scenario=scenario)[1]
    except StoreBusy as exc:
        print(f"vnetdoctor diagnose: not recording this session: {exc}", file=sys.stderr)
        return None


# How long diagnose waits at the end for a database another process keeps busy.
RECORD_WAIT_S = 30.0


def close_recorder(recorder: Any, timeout: float = RECORD_WAIT_S) -> str | None:
    """Write what is queued; the session id, or None if nothing was kept. Never a false "recorded"."""
    if recorder is None:
        return None
    status = recorder.close(timeout)
    sid = recorder.session_id
    reason = status.reason or (recorder.errors[0] if recorder.errors else "")
    if not status.complete or recorder.errors:
        what = f"session {sid} not fully recorded" if sid else "session not recorded"
        print(f"vnetdoctor diagnose: {what}: {reason}".splitlines()[0], file=sys.stderr)
    return sid


def progress_sink(session: Any, lang: str):  # type: ignore[no-untyped-def]
    """The progress line on stderr when it is a terminal (issue 10 item 9); None otherwise."""
    if not sys.stderr.isatty():
        return None
    from vnetdoctor.session.sinks import ProgressLine
    from vnetdoctor.knowledge.text import tr

    plan = session.plan()

    def fmt(done: int, total: int, seconds: float, running: str | None) -> str:
        if running is None:
            return tr("walk.run_progress_idle", lang, done=done, total=total, seconds=f"{seconds:.1f}")
        return tr("walk.run_progress", lang, done=done, total=total, seconds=f"{seconds:.1f}", step=running)

    return ProgressLine(len(plan), {s.id: s.title for s in plan}, fmt)


def run(args: argparse.Namespace) -> int:
    """Guarded from the start: a signal while the request is checked (libvirt asked) ends it as cleanly."""
    from vnetdoctor.interrupt import Interrupted, SignalGuard, interrupted_message
    from vnetdoctor.terminal_exit import say
    from vnetdoctor.knowledge.text import choose_lang

    with SignalGuard():
        try:
            request = build_request(args)
            return diagnose(request, db=args.db, record=not args.no_record, as_json=args.json,
                            interactive=args.interactive)
        except Interrupted as exc:
            say(interrupted_message(exc.signum, choose_lang(getattr(args, "lang", None))))
            return exc.exit_code


def diagnose(request: Request, *, db: str | None, record: bool, as_json: bool = False,
             interactive: bool = False, source: str = "diagnose", scenario: str | None = None) -> int:
    """Run one Session for ``request`` with the console's sinks; print the report; the exit status."""
    from vnetdoctor.session import Session, live_engine_factory

    recorder = open_recorder(db, source=source, scenario=scenario) if record else None
    session = Session(request, live_engine_factory, ask=ask_on_terminal if interactive else None)
    if recorder is not None:  # the store's modules load only when something is recorded
        from vnetdoctor.session.sinks import attach_recorder

        attach_recorder(session, recorder)
    # SIGTERM, SIGHUP, SIGINT: the session ends the moment one arrives (nothing found after it
    # is recorded), the walk unwinds, the record says it was interrupted, and the command
    # exits 128+N with one line, as `tui` and `demo` do. `diagnose` and `demo --no-tui` are
    # guarded already (their command says the line); a caller without a guard gets one here.
    from vnetdoctor.interrupt import Interrupted, SignalGuard, active_guard

    outer = active_guard()
    with nullcontext(outer) if outer is not None else SignalGuard() as guard:
        guard.on_signal("close the session", session.close)
        progress = progress_sink(session, request.lang)
        if progress is not None:
            session.add_sink(progress)
        try:
            try:
                diagnosis = session.run()
            finally:
                if progress is not None:
                    progress.clear()
                session_id = close_recorder(recorder)
        except Interrupted as exc:
            return _interrupted(exc, recorder, request.lang, own_guard=outer is None)
    if as_json:
        json.dump(diagnosis.to_json(session_id), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from vnetdoctor.console_report import print_report

        print_report(diagnosis, session_id, request.lang)
    return exit_status(diagnosis)


def _interrupted(exc: BaseException, recorder: Any, lang: str, *, own_guard: bool) -> int:
    """A signal cut the walk short: what was recorded is kept (closed), marked interrupted; one line.

    Under the command's guard (``diagnose``, ``demo --no-tui``) the signal goes on up to
    it: that command says the line (and takes its lab down).
    """
    from vnetdoctor.interrupt import Interrupted, interrupted_message, signal_name
    from vnetdoctor.terminal_exit import say

    assert isinstance(exc, Interrupted)
    if recorder is not None:
        error = recorder.mark_interrupted(signal_name(exc.signum))
        if error is not None:
            say(f"vnetdoctor diagnose: {error}")
    if not own_guard:
        raise exc
    say(interrupted_message(exc.signum, lang))
    return exc.exit_code
