"""Starting the App from a command (``tui``, ``demo``, ``replay``): the parts they share.

The commands decide *what* to show (a live request, a lab scenario, a recorded
session); this module turns that into a running App: the live engine factory,
the operator's keymap, a check that there is a terminal to draw on, and the
recorder drained after the App has exited so that nothing recorded is lost.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vnetdoctor.session import live_engine_factory as live_engine_factory  # what tui and demo run

from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.interrupt import SignalGuard, active_guard, interrupted_message, signal_name
from vnetdoctor.terminal_exit import say

from .bridge import EngineFactory
from vnetdoctor.session.recorder import SessionRecorder
from .state import SessionState

if TYPE_CHECKING:
    from .app import VnetDoctorApp


def keymap_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "vnetdoctor" / "keymap.toml"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id → keys, e.g. ``"walk.next" = "j"`` or ``"walk.back" = "k,up"``.

    Every binding of the TUI has an id (see ``?``); a keymap file remaps them
    without touching the code, as Textual's keymaps do. A missing file is no
    keymap; a malformed one is a one-line error (exit 2), not a silent default.
    """
    path = path or keymap_path()
    if not os.path.exists(path):
        # Also a file that cannot even be looked for: a HOME that is not this user's
        # (setpriv, sudo -u) hides ~/.config behind a directory it may not search.
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(tr("cli.keymap_unreadable", path=str(path), error=str(exc).splitlines()[0])) from None
    table = data.get("keys", data)
    bad = [k for k, v in table.items() if not isinstance(v, str)]
    if bad:
        raise UsageError(tr("cli.keymap_not_keys", path=str(path), name=repr(bad[0])))
    return dict(table)


def require_terminal() -> None:
    """Textual reads keys from stdin and draws on stderr: both must be a terminal."""
    for name, stream in (("stdin", sys.__stdin__), ("stderr", sys.__stderr__)):
        if stream is None or not stream.isatty():
            raise UsageError(tr("cli.needs_terminal", stream=name))


def build_app(
    state: SessionState,
    engine_factory: EngineFactory,
    *,
    recorder: SessionRecorder | None = None,
    autorun: bool = True,
    keymap: dict[str, str] | None = None,
    **seams: Any,
) -> VnetDoctorApp:
    """The App every command runs, with its CSS, bindings and keymap: the one factory.

    ``seams`` are the App's injection points (``knowledge``, ``discover_fn``,
    ``first_screen``): the commands leave them at their defaults; the TUI tests and the
    key-latency benchmark pass fakes, so they drive the App the operator gets, not a
    stand-in without its styles or keys.
    """
    from .app import VnetDoctorApp

    return VnetDoctorApp(state, engine_factory, recorder=recorder, autorun=autorun, keymap=keymap, **seams)


def run_app(
    state: SessionState,
    engine_factory: EngineFactory,
    *,
    recorder: SessionRecorder | None = None,
    autorun: bool = True,
    discover_fn: Any = None,
) -> int:
    """Run the App to the end; then drain the recorder and report what could not be recorded."""
    require_terminal()
    app = build_app(state, engine_factory, recorder=recorder, autorun=autorun, keymap=load_keymap(),
                    discover_fn=discover_fn)
    guard = active_guard()
    if guard is not None:
        # The moment a signal arrives the session is over: nothing the walk finds after it
        # (a verdict while the App exits) is recorded beside the `interrupted` mark.
        guard.on_signal("close the session", lambda: _close_session(state))
        guard.on_emergency("mark the session interrupted", lambda: _mark_interrupted(recorder, guard, state.lang))
        guard.attach(app)
    try:
        app.run()
    finally:
        if guard is not None:
            guard.app_returned()
        if recorder is not None:
            recorder.close()
    # A hang-up closes the tty too: the App may return on its own (input EOF) a moment
    # before the SIGHUP handler runs. A signal noted at any point up to here still ended it.
    signalled = guard is not None and guard.signum is not None
    # After a signal the terminal may be gone: every line goes out through say() (no EIO, no hang).
    out = say if guard is not None and guard.signum is not None else _print_err
    if recorder is not None:
        for line in recorder.errors[:3]:
            out(tr("record.could_not", state.lang, error=line))
    if signalled:
        assert guard is not None and guard.signum is not None
        _mark_interrupted(recorder, guard, state.lang)
        out(interrupted_message(guard.signum, state.lang))
        if recorder is not None and recorder.session_id:
            # A walk that reached its verdict before the signal keeps it: that session is recorded.
            key = "record.exit_done" if recorder.finished else "record.exit_interrupted"
            out(tr(key, state.lang, sid=recorder.session_id))
        return 128 + guard.signum
    outcome = recording_outcome(recorder, state.lang) if recorder is not None else None
    if outcome:  # "recorded" only when every record is in the database; else what was lost, and why
        out(outcome)
    return 1 if app.return_code and app.return_code != 0 else 0


def _close_session(state: SessionState) -> None:
    if state.session is not None:
        state.session.close()


def _print_err(line: str) -> None:
    print(line, file=sys.stderr)


def _mark_interrupted(recorder: SessionRecorder | None, guard: SignalGuard, lang: str = "en") -> None:
    """Say in the record that a signal ended the session (why it has no verdict, or a partial one)."""
    if recorder is None or guard.signum is None:
        return
    error = recorder.mark_interrupted(signal_name(guard.signum))
    if error is not None:
        say(tr("record.could_not", lang, error=error))


def recording_outcome(recorder: SessionRecorder, lang: str) -> str | None:
    """The exit line: "recorded", or what the busy database kept out and why (never a false "recorded").

    None when there was nothing to record (the operator left the Start screen).
    """
    status = recorder.status()
    sid = recorder.session_id
    if status.complete:
        return tr("record.exit_done", lang, sid=sid) if sid else None
    reason = status.reason or (recorder.errors[0] if recorder.errors else "?")
    if sid is None:
        if status.pending == 0:  # not busy: the database refused to start the session at all
            return tr("record.exit_failed", lang, reason=reason)
        return tr("record.exit_none", lang, steps=status.pending_steps, reason=reason)
    steps = status.pending_steps + status.failed_steps  # still waiting, or refused for good
    others = status.pending + status.failed - steps
    return tr("record.exit_partial", lang, sid=sid, steps=steps, others=others, reason=reason)
