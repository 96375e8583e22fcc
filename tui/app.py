"""The App: wiring only. Screens own their UI; the commands build the state and the engine factory.

Start with a request (``tui --target``, ``demo``, ``replay``) and the walk opens
directly; without one the Start screen picks it. ``q`` quits from any screen
unless something that changes the system is still running; ``?`` explains the
current screen; ctrl+p or ``:`` opens a palette with that screen's commands only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider, SearchIcon
from textual.message import Message
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.timer import Timer

from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.text import Translator

from .bridge import EngineFactory
from .ascii_fold import install as install_ascii_fold
from .glyphs import ascii_glyphs
from .i18n import translate_bindings
from .kb import FlowchartKnowledge, Knowledge
from .messages import SessionStarted
from vnetdoctor.session.recorder import RecordStatus, SessionRecorder
from vnetdoctor.session.sinks import attach_recorder
from .state import SessionState
from vnetdoctor.session.targets import Target, discover

# How long the "not recorded yet" notice stays up; it is shown again while the wait goes on.
RECORD_NOTICE_SECONDS = 15.0
# A database that refuses one write usually refuses the next ones too: one notice per burst.
FAILURE_GATHER_S = 0.3


class RecordStatusChanged(Message):
    """The recorder's thread reports what is not in the database yet (posted thread-safely)."""

    def __init__(self, status: RecordStatus) -> None:
        super().__init__()
        self.status = status


class WholeCellScrollBarRender(ScrollBarRender):
    """Scroll bars in whole cells (the thumb is its colour or reverse video), no eighth blocks.

    Textual draws a thumb's ends with eighth blocks (▃ ▅ vertically, ▌ ▉ across). On a
    1-column bar in a dark theme, or without colour, the thumb's body hardly shows and
    those ends read as stray glyphs left behind by a toast or a dialog (issue 10); the
    Linux console has no such glyphs at all. So every mode draws whole cells.
    """

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


class AsciiCommandPalette(CommandPalette):
    """The palette without its 🔎, one more glyph the Linux console lacks."""

    def on_mount(self) -> None:
        for icon in self.query(SearchIcon):
            icon.icon = ">"


class VnetDoctorApp(App[None]):
    CSS_PATH = "styles.tcss"
    TITLE = "vnetdoctor"
    COMMANDS: ClassVar[set[type[Provider]]] = set()  # each screen brings its own provider (commands that fit it)
    # Width classes on every screen (styles.tcss): below 100 columns the sidebar narrows,
    # below 70 the footer drops its palette key (":" and ctrl+p still open it; ? lists them).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-w-small"), (70, "-w-medium"), (100, "-w-large")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "app.quit", id="app.quit"),
        Binding("question_mark", "help", "app.help", id="app.help", key_display="?"),
        Binding("colon", "command_palette", "app.palette", id="app.palette", show=False),
        Binding("ctrl+p", "command_palette", "app.palette", id="app.palette_ctrl", show=False),
    ]

    def __init__(
        self,
        state: SessionState,
        engine_factory: EngineFactory,
        *,
        knowledge: Knowledge | None = None,
        recorder: SessionRecorder | None = None,
        autorun: bool = True,
        keymap: dict[str, str] | None = None,
        discover_fn: Callable[[], tuple[list[Target], list[str]]] | None = None,
        first_screen: Callable[[], Screen[Any]] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.engine_factory = engine_factory
        self.knowledge = knowledge or FlowchartKnowledge()
        self.recorder = recorder
        self.record_status = RecordStatus()  # what the recorder last reported (tests read it)
        self._record_notice_at: float | None = None  # when "not recorded yet" was last shown
        self._failure_notice_at: float | None = None  # when "records lost" was last shown
        self._failure_timer: Timer | None = None  # that notice, gathering a burst of failures
        self.autorun = autorun
        # Where Start finds guests (tests pass fixed ones); notes in the operator's language.
        self.discover_fn = discover_fn or partial(discover, state.lang)
        # A view to open instead of Start or the walk (the snapshot tests open Packets and Tables).
        self.first_screen = first_screen
        self.tr = Translator(state.lang)
        self._scrollbar_renderer: type[ScrollBarRender] | None = None  # restored on unmount
        self._unfold: Callable[[], None] | None = None  # the ASCII fold's undo, run on unmount
        translate_bindings(self, state.lang)
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        self._scrollbar_renderer = ScrollBar.renderer
        ScrollBar.renderer = WholeCellScrollBarRender
        if ascii_glyphs():
            self.add_class("-ascii")  # borders without block glyphs (styles.tcss ".-ascii")
            self._unfold = install_ascii_fold()  # and no other glyph the console lacks (ascii_fold.py)
        if self.recorder is not None:
            self.recorder.set_listener(lambda status: self.post_message(RecordStatusChanged(status)))
        if self.state.notice:
            self.notify(self.state.notice, timeout=10)
        if self.first_screen is not None:
            self.push_screen(self.first_screen())
        elif self.state.request is not None:
            self.open_walk(self.state.request)
        elif self.state.sessions_db is not None:
            from .screens.sessions import SessionsScreen

            self.push_screen(SessionsScreen(self.state.sessions_db, self.state.lang, query=self.state.sessions_query,
                                            focus=self.state.sessions_focus))
        else:
            from .screens.start import StartScreen

            self.push_screen(StartScreen(self.state, discover_fn=self.discover_fn))

    def open_walk(self, request: Request) -> None:
        """Push the walk for ``request`` (from the Start screen, or at start-up)."""
        from .screens.walk import WalkScreen

        walk_class: type[WalkScreen] = WalkScreen
        if self.state.replay:  # a recorded session: the same walk, with a timeline to steer it
            from .screens.replay_walk import ReplayWalkScreen as walk_class
        self.state.request = request
        walk = walk_class(self.state, self.engine_factory, self.knowledge, autorun=self.autorun)
        # Recorded as `diagnose` records, through the session core's one sink, attached before
        # the walk's first event (its screen only renders); the id goes to the walk's header.
        attach_recorder(walk.session, self.recorder, lambda sid: walk.post_message(SessionStarted(sid)))
        self.push_screen(walk)
        if request.trace_rules:  # a ruleset change, however brief: said before the walk makes it
            self.notify(self.tr("walk.trace_rules"), severity="warning", timeout=10)

    def on_replay_requested(self, message: Message) -> None:
        """A session picked on the Sessions screen: the command replays it, then brings the list back."""
        self.state.replay_choice = getattr(message, "session_id", None)
        self.exit()

    def on_unmount(self) -> None:
        if self._scrollbar_renderer is not None:
            ScrollBar.renderer = self._scrollbar_renderer
        if self._unfold is not None:
            self._unfold()
        if self.recorder is not None:
            self.recorder.set_listener(None)

    def on_record_status_changed(self, message: RecordStatusChanged) -> None:
        """A busy database is said on screen at once, and again while it lasts; then that it caught up.

        A write the database refused for good (not busy) is said at once, as an error.
        """
        before, status = self.record_status, message.status
        self.record_status = status
        now = time.monotonic()
        if status.failed > before.failed:  # lost for good: an error, said within a moment
            if self._failure_timer is None:  # one notice for a burst, with the count it reached
                last = self._failure_notice_at
                delay = FAILURE_GATHER_S if last is None else max(FAILURE_GATHER_S, last + RECORD_NOTICE_SECONDS - now)
                self._failure_timer = self.set_timer(delay, self._show_record_failure)
            return
        if status.waiting:
            if self._record_notice_at is None or now - self._record_notice_at >= RECORD_NOTICE_SECONDS:
                self._record_notice_at = now
                self.notify(self.tr("record.waiting", count=status.pending), title=self.tr("record.title"),
                            severity="warning", timeout=RECORD_NOTICE_SECONDS)
        elif self._record_notice_at is not None:
            self._record_notice_at = None
            self.notify(self.tr("record.caught_up"))

    def _show_record_failure(self) -> None:
        self._failure_timer = None
        self._failure_notice_at = time.monotonic()
        status = self.record_status
        self.notify(self.tr("record.failed", count=status.failed, reason=status.reason),
                    title=self.tr("record.failed_title"), severity="error", timeout=RECORD_NOTICE_SECONDS)

    def action_command_palette(self) -> None:
        """Textual's palette, with its prompt in the operator's language (and no 🔎 in ASCII)."""
        if not self.use_command_palette or CommandPalette.is_open(self):
            return
        palette = AsciiCommandPalette if ascii_glyphs() else CommandPalette
        self.push_screen(palette(placeholder=self.tr("app.palette_search"), id="--command-palette"))

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        title = self.tr(f"screen.{type(self.screen).__name__}")
        self.push_screen(HelpScreen(self.screen, self.state.lang, title))

    def _print_error_renderables(self) -> None:
        """A crash ends as one line naming the error (the CLI's contract), not a traceback.

        ``VNETDOCTOR_DEBUG=1`` shows Textual's full report, as it does for the CLI.
        """
        if os.environ.get("VNETDOCTOR_DEBUG") or self._exception is None:
            super()._print_error_renderables()
            return
        error = self._exception
        line = f"{type(error).__name__}: {error}".splitlines()[0]
        self.error_console.print(f"vnetdoctor: {line} (set VNETDOCTOR_DEBUG=1 for the traceback)", markup=False)
        self._exit_renderables.clear()

    async def action_quit(self) -> None:
        for screen in self.screen_stack:
            reason = getattr(screen, "blocks_quit", lambda: None)()
            if reason:
                self.notify(reason, severity="warning")
                return
        self.exit()
