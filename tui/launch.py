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

from vnetdoctor.knowledge.events import AskFn, EngineLike, EventSink
from vnetdoctor.knowledge.model import Request

from vnetdoctor.errors import UsageError

from .bridge import EngineFactory
from .recorder import SessionRecorder
from .state import SessionState


def live_engine_factory(request: Request, ask: AskFn, on_event: EventSink) -> EngineLike:
    """The real engine (imported here, not at start-up: it loads probes and the flowchart)."""
    from vnetdoctor.knowledge.engine import Engine

    return Engine(request, ask=ask, on_event=on_event)


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
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read keymap {path}: {exc}".splitlines()[0]) from None
    table = data.get("keys", data)
    bad = [k for k, v in table.items() if not isinstance(v, str)]
    if bad:
        raise UsageError(f"keymap {path}: {bad[0]!r} must be a string of keys such as \"j\" or \"k,up\"")
    return dict(table)


def require_terminal() -> None:
    """Textual reads keys from stdin and draws on stderr: both must be a terminal."""
    for name, stream in (("stdin", sys.__stdin__), ("stderr", sys.__stderr__)):
        if stream is None or not stream.isatty():
            raise UsageError(
                f"the TUI needs a terminal ({name} is not one); use `vnetdoctor diagnose` in scripts"
            )


def run_app(
    state: SessionState,
    engine_factory: EngineFactory,
    *,
    recorder: SessionRecorder | None = None,
    autorun: bool = False,
) -> int:
    """Run the App to the end; then drain the recorder and report what could not be recorded."""
    from .app import VnetDoctorApp

    require_terminal()
    app = VnetDoctorApp(state, engine_factory, recorder=recorder, autorun=autorun, keymap=load_keymap())
    try:
        app.run()
    finally:
        if recorder is not None:
            recorder.close()
    if recorder is not None:
        for line in recorder.errors[:3]:
            print(f"vnetdoctor: could not record: {line}", file=sys.stderr)
    if recorder is not None and recorder.session_id:
        sid = recorder.session_id
        print(f"vnetdoctor: session {sid} recorded (vnetdoctor replay {sid})", file=sys.stderr)
    return 1 if app.return_code and app.return_code != 0 else 0
