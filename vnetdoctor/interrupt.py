"""SIGHUP, SIGTERM and SIGINT for the full-screen commands (``tui``, ``demo``, ``replay``).

Why this exists: an SSH connection that drops sends SIGHUP, a service manager or
an impatient operator sends SIGTERM, and Python's default for both is to die on
the spot. That leaves the operator's terminal in the alternate screen with mouse
reporting on, a demo's lab namespaces and servers running, and the recorded
session looking like a crash. With :class:`SignalGuard` around a command:

- before the App runs (building a lab, opening the store), a signal raises
  :class:`Interrupted` in the main thread, so every ``finally`` runs as for
  ctrl+c (the demo's ``finally`` takes its lab down);
- while the App runs, the handler only asks the App to exit, through its event
  loop (``call_soon_threadsafe``), so Textual's driver leaves application mode
  properly: alternate screen off, mouse and bracketed paste off, cursor shown,
  terminal modes restored;
- a watchdog bounds that: if the App has not returned after
  :data:`EXIT_GRACE` seconds (a hung-up terminal that blocks writes, a stuck
  worker), it writes the reset sequences itself — non-blocking, to a fresh
  descriptor, so a dead tty cannot hang it — runs the emergency cleanups the
  command registered (take the lab down, mark the session interrupted) and ends
  the process with ``128 + signal``;
- after the App returned, a further signal is only noted: the command is
  already cleaning up and must not be cut short half-way through ``lab down``.

Why a wakeup descriptor and a listener thread as well: CPython runs a Python
signal handler only when the main thread next executes bytecode. A signal that
lands after the main thread released the GIL but before it entered its blocking
wait (a lock, a futex, ``epoll_wait`` with nothing due) wakes nothing, and the
handler waits for that wait to end — measured here, ~1 run in 40 under load, the
whole 60 s of the test's stand-in App. The C-level handler writes the signal's
number to the wakeup descriptor at once, whatever the main thread does, so the
listener can wake the App's loop (the handler then runs within milliseconds)
and, if even that does not bring the handler in, keep the watchdog's promise
itself: reset, emergency cleanups, ``128 + signal`` within the grace.

Nothing here imports Textual: ``demo --no-tui`` uses the same guard.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import threading
from time import monotonic
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol, Self

from vnetdoctor.knowledge.text import choose_lang, tr
from vnetdoctor.terminal_exit import reset_terminal, stderr_line

HANDLED = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
EXIT_GRACE = 3.0  # seconds the App gets to shut its driver down before the watchdog steps in

class Interrupted(KeyboardInterrupt):
    """A handled signal arrived while no App was running: unwind like ctrl+c, then exit 128+N."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class ExitableApp(Protocol):
    """What the guard needs of a Textual App (kept structural: no Textual import here)."""

    _loop: Any

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None: ...


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def interrupted_message(signum: int, lang: str = "en") -> str:
    """The one line the command prints when a signal ended it, in the operator's language."""
    return tr("cli.interrupted", choose_lang(lang), signal=signal_name(signum))


_ACTIVE: SignalGuard | None = None


def active_guard() -> SignalGuard | None:
    """The guard of the command running now, if any (``run_app`` attaches its App to it)."""
    return _ACTIVE


class SignalGuard:
    """Install handlers for SIGHUP/SIGTERM/SIGINT for the duration of a ``with`` block."""

    def __init__(self, grace: float = EXIT_GRACE) -> None:
        self.grace = grace
        self.signum: int | None = None
        self.during_app = False  # the signal ended a running App (the session is interrupted)
        self._app: ExitableApp | None = None
        self._app_done = False
        # Re-entrant: the handler runs in the main thread, possibly while it holds this lock.
        self._lock = threading.RLock()
        self._cleanups: list[tuple[str, Callable[[], object]]] = []
        self._first: list[tuple[str, Callable[[], object]]] = []  # run by the handler itself
        self._previous: dict[int, Any] = {}
        self._tty_attrs: list[Any] | None = None
        self._watchdog: threading.Thread | None = None
        self._emergency = False
        self._wakeup: tuple[int, int, int] | None = None  # (read fd, write fd, previous wakeup fd)

    # -- installing ------------------------------------------------------------------
    def __enter__(self) -> Self:
        global _ACTIVE
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED:
                self._previous[sig] = signal.signal(sig, self._handle)
            self._listen_for_wakeups()
        try:
            self._tty_attrs = termios.tcgetattr(sys.__stdin__.fileno()) if sys.__stdin__ else None
        except (termios.error, OSError, ValueError):
            self._tty_attrs = None
        _ACTIVE = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        with self._lock:
            self._app_done = True
        self._stop_listening()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if _ACTIVE is self:
            _ACTIVE = None

    # -- what the command tells the guard ----------------------------------------------
    def on_emergency(self, name: str, fn: Callable[[], object]) -> None:
        """Run ``fn`` if the watchdog has to end the process (the normal path runs its own)."""
        self._cleanups.append((name, fn))

    def on_signal(self, name: str, fn: Callable[[], object]) -> None:
        """Run ``fn`` in the signal handler, before the App is asked to exit or anything unwinds.

        For what must stop the moment the signal arrives rather than when the App has
        shut down: the session is closed here, so a walk that finishes while the App
        exits can no longer deliver a verdict to the record beside its ``interrupted``.
        ``fn`` must not block (it runs in the main thread, between two bytecodes).
        """
        self._first.append((name, fn))

    def attach(self, app: ExitableApp) -> None:
        """From now on a signal asks ``app`` to exit instead of raising."""
        with self._lock:
            self._app = app
            self._app_done = False
        if self.signum is not None:  # arrived before the App existed but was not raised (no main thread)
            self._request_exit()

    def app_returned(self) -> None:
        """The App's ``run`` returned: stop the watchdog from stepping in.

        If the watchdog is already ending the process, wait for it to do so rather
        than run the same cleanups twice, concurrently.
        """
        with self._lock:
            self._app_done = True
            self._app = None
            emergency = self._emergency
        if emergency:
            threading.Event().wait()  # the watchdog calls os._exit

    # -- the handler ---------------------------------------------------------------------
    def _handle(self, signum: int, frame: FrameType | None) -> None:
        with self._lock:  # the listener may be stepping in for a handler that came late
            if self.signum is not None:
                return  # already unwinding: a second SIGHUP/SIGTERM must not cut the cleanup short
            self.signum = signum
        self._run_first()
        with self._lock:
            app, done = self._app, self._app_done
        if app is not None and not done:
            self.during_app = True
            self._request_exit()
            return
        if not done:
            raise Interrupted(signum)
        # After the App returned: noted (the command reports it), nothing interrupted.

    def _run_first(self) -> None:
        for name, fn in self._first:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - the signal must still end the command
                stderr_line(f"vnetdoctor: {name}: {type(exc).__name__}: {exc}".splitlines()[0])

    def _request_exit(self) -> None:
        """Start the watchdog; it asks the App to exit as soon as the App has an event loop."""
        self._watchdog = threading.Thread(
            target=self._watch, name="vnetdoctor-signal-watchdog", daemon=True
        )
        self._watchdog.start()

    def _ask_app_to_exit(self) -> bool:
        """Post ``exit`` to the App's loop; False while the App has no loop yet."""
        app = self._app
        loop = getattr(app, "_loop", None)
        if app is None or loop is None:
            return False
        code = 128 + (self.signum or signal.SIGTERM)
        try:
            loop.call_soon_threadsafe(lambda: app.exit(return_code=code))
        except RuntimeError:
            pass  # the loop is closing: the App is on its way out already
        return True

    # -- the listener: a signal the main thread has not noticed yet ---------------------------
    def _listen_for_wakeups(self) -> None:
        """Have the C-level handler write each signal's number where a thread of ours reads it."""
        try:
            rfd, wfd = os.pipe()
        except OSError:
            return  # no pipe to spare: the handler alone, as before
        try:
            os.set_blocking(wfd, False)
            previous = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
        except (OSError, ValueError):
            os.close(rfd)
            os.close(wfd)
            return
        self._wakeup = (rfd, wfd, previous)
        threading.Thread(
            target=self._listen, args=(rfd,), name="vnetdoctor-signal-listener", daemon=True
        ).start()

    def _stop_listening(self) -> None:
        if self._wakeup is None:
            return
        rfd, wfd, previous = self._wakeup
        self._wakeup = None
        try:
            signal.set_wakeup_fd(previous)
        except ValueError:
            pass
        os.close(wfd)  # the listener reads end-of-file and returns; it closes the read end

    def _listen(self, rfd: int) -> None:
        try:
            while data := os.read(rfd, 64):
                for signum in data:
                    if signum in HANDLED:
                        threading.Thread(
                            target=self._delivered, args=(signum,), daemon=True,
                            name="vnetdoctor-signal-late",
                        ).start()
        except OSError:
            pass
        finally:
            os.close(rfd)

    def _delivered(self, signum: int) -> None:
        """A handled signal arrived; make sure a running App hears of it within the grace.

        Before an App runs (or after it returned) only the main thread may act —
        raising :class:`Interrupted` there is what lets every ``finally`` run — so
        the listener leaves those phases to the handler.
        """
        deadline = monotonic() + self.grace
        loop = getattr(self._app, "_loop", None)
        if loop is not None:
            try:  # wakes the main thread out of its wait: the handler runs next
                loop.call_soon_threadsafe(_nothing)
            except RuntimeError:
                pass
        tick = threading.Event()
        while monotonic() < deadline:
            if self.signum is not None:
                return  # the handler ran: its watchdog keeps the promise from here
            tick.wait(0.05)
        with self._lock:
            if self.signum is not None or self._app is None or self._app_done:
                return
            self.signum = signum  # the handler, when it comes, sees the signal is taken care of
            self.during_app = True
            self._emergency = True
        self._run_first()
        self._emergency_exit()

    # -- the watchdog ----------------------------------------------------------------------
    def _watch(self) -> None:
        """Ask the App to exit, then give it ``grace`` seconds before ending the process."""
        tick = threading.Event()
        asked = False
        # A deadline on the clock, not counted ticks: on a loaded machine each 50 ms wait
        # can take far longer, and the grace must not stretch with it.
        deadline = monotonic() + self.grace
        while monotonic() < deadline:
            with self._lock:
                if self._app_done:
                    return
            if not asked:
                asked = self._ask_app_to_exit()
            tick.wait(0.05)
        with self._lock:
            if self._app_done:
                return
            self._emergency = True
        self._emergency_exit()

    def _emergency_exit(self) -> None:
        signum = self.signum or signal.SIGTERM
        reset_terminal(self._tty_attrs)
        for name, fn in self._cleanups:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - every cleanup gets its turn
                stderr_line(f"vnetdoctor: {name}: {type(exc).__name__}: {exc}".splitlines()[0])
        stderr_line(interrupted_message(signum))
        os._exit(128 + signum)


def _nothing() -> None:
    """Posted to the App's loop only to wake it."""
