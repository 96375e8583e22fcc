"""Sessions: the recorded sessions, to pick one to replay, export, or compare with another.

What a colleague picking up a ticket needs first: which sessions exist, for which
target and path, what each concluded, and which one a fix healed — without the
CLI. The list is read in a worker (a read-only store opened there, so the UI
thread never waits on SQLite) one page at a time, so 10,000 sessions cost one
page; reaching the last row loads the next. ``/`` searches with the same ranked
search as ``vnetdoctor sessions --search`` and shows why the highlighted session
matched. Space marks sessions, ``d`` compares the two marked ones, ``e`` exports
the highlighted one, Enter replays it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from vnetdoctor.knowledge.text import Translator, error_text
from vnetdoctor.records import match_words, result_words

from ..glyphs import glyph
from ..i18n import translate_bindings
from ..widgets.list_keys import ListTable
from ..widgets.title_bar import TitleBar
from .session_dialogs import DiffScreen, ExportDialog, ExportRequest

PAGE = 200
COLUMNS = ("when", "target", "path", "result")
PATH_WIDTH = 22  # the detail lines below the table show the whole path
FIXED_WIDTH = 12 + 12 + PATH_WIDTH + 2 * len(COLUMNS) + 2  # when, target, path, cell padding, scrollbar


def when_text(started: float) -> str:
    """``12-04 15:10``: the list is for telling sessions apart; the detail shows the full id."""
    return time.strftime("%m-%d %H:%M", time.localtime(started))


def clip(text: str, width: int) -> str:
    more = glyph("more")  # "..." on the Linux console, where "…" does not show
    return text if len(text) <= width else text[: max(1, width - len(more))] + more


def arrows(text: str) -> str:
    """``host→guest`` as the terminal can draw it (``host->guest`` on the Linux console)."""
    return text.replace("→", glyph("right")).replace("←", glyph("left"))


def result_text(summary: Any, tr: Translator) -> str:
    """The verdict in a few words, worded as ``vnetdoctor sessions`` words it."""
    return result_words(summary, tr.lang)


class SessionsLoaded(Message):
    """A page of the list arrived from the worker (or why it could not be read)."""

    def __init__(self, sessions: list[Any], total: int, query: str, error: str = "") -> None:
        super().__init__()
        self.sessions = sessions
        self.total = total
        self.query = query
        self.error = error


class ReplayRequested(Message):
    """The operator chose a session to replay; whoever opened this screen decides how."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id


class SessionsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "replay", "sessions.replay", id="sessions.replay"),
        Binding("slash", "search", "sessions.search", id="sessions.search", key_display="/"),
        Binding("space", "mark", "sessions.mark", id="sessions.mark"),
        Binding("d", "diff", "sessions.diff", id="sessions.diff"),
        Binding("e", "export", "sessions.export", id="sessions.export"),
        Binding("escape", "clear_search", "sessions.clear", id="sessions.clear", show=False),
    ]

    DEFAULT_CSS = """
    SessionsScreen #sessions { height: 1fr; }
    SessionsScreen #sessions-why { height: 5; padding: 0 1; border-top: solid $panel-lighten-2;
                                   text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, db: Path, lang: str, *, query: str = "", focus: str | None = None) -> None:
        super().__init__()
        self.db = Path(db)
        self.lang = lang
        self.tr = Translator(lang)
        self.summaries: list[Any] = []
        self.total = 0
        self.search_text = query
        self.focus_id = focus  # the session to highlight once listed (the one just replayed)
        self.marked: list[str] = []
        self.last_message = ""
        self._loading = False
        translate_bindings(self, lang)

    def compose(self) -> ComposeResult:
        yield TitleBar(Text("vnetdoctor", style="bold"), Text(self.tr("sessions.title"), style="italic"),
                       id="sessions-title")
        yield Input(placeholder=self.tr("sessions.search_placeholder"), id="sessions-search", compact=True)
        table: DataTable[str] = ListTable(id="sessions", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static("", id="sessions-why")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        for col in COLUMNS:
            table.add_column(arrows(self.tr(f"sessions.col.{col}")), key=col)
        box = self.query_one("#sessions-search", Input)
        box.value = self.search_text
        box.display = bool(self.search_text)
        self._load(self.search_text, PAGE)
        table.focus()

    def help_intro(self) -> str:
        return self.tr("sessions.help_intro")

    # -- loading ------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions")
    def _load(self, query: str, limit: int) -> None:
        """Worker: one read-only store per load; a file that cannot be read says why on screen."""
        from vnetdoctor.probes.errors import UsageError
        from vnetdoctor.store import SessionStore

        if not self.db.exists():
            self.post_message(SessionsLoaded([], 0, query))
            return
        try:
            with SessionStore(self.db, readonly=True) as store:
                found, total = store.listing(search=query or None, limit=limit)
        except (UsageError, OSError) as exc:
            self.post_message(SessionsLoaded([], 0, query, error=error_text(exc, self.lang)))
            return
        self.post_message(SessionsLoaded(found, total, query))

    def on_sessions_loaded(self, message: SessionsLoaded) -> None:
        self._loading = False
        if message.query != self.search_text:
            return  # an older search answered late
        table = self.query_one("#sessions", DataTable)
        known = {s.id for s in self.summaries}
        fresh = [s for s in message.sessions if s.id not in known] if self.summaries else message.sessions
        if not self.summaries:
            table.clear()
        self.summaries.extend(fresh)
        self.total = message.total
        with self.app.batch_update():
            for s in fresh:
                table.add_row(*self._cells(s), key=s.id)
        if self.focus_id is not None and any(s.id == self.focus_id for s in fresh):
            table.move_cursor(row=table.get_row_index(self.focus_id))
            self.focus_id = None
        if message.error:
            self.last_message = message.error
        self._refresh_status()

    def _cells(self, s: Any) -> list[str | Text]:
        """Marked sessions start with ``*`` (readable without colour); causes are bold."""
        when = Text(("*" if s.id in self.marked else " ") + when_text(s.started),
                    style="bold reverse" if s.id in self.marked else "")
        result = clip(result_text(s, self.tr), max(12, self.size.width - FIXED_WIDTH))
        return [when, clip(s.target or "—", 12), clip(arrows(s.path), PATH_WIDTH),
                Text(result, style="bold" if s.causes else "")]

    def _refresh_status(self) -> None:
        tr = self.tr
        shown = len(self.summaries)
        if self.search_text:
            right = tr("sessions.count_search", shown=shown, total=self.total, query=self.search_text)
        else:
            right = tr("sessions.count", shown=shown, total=self.total)
        self.query_one("#sessions-title", TitleBar).set_right(Text(right, style="italic"))
        self._show_why()

    def _show_why(self) -> None:
        s = self.current()
        lines: list[str] = []
        if not self.summaries:
            lines.append(self.tr("sessions.none_match", query=self.search_text) if self.search_text
                         else self.tr("sessions.none", db=str(self.db)))
        elif s is not None:
            lines.append(self.tr("sessions.detail_id", id=s.id, scenario=s.scenario or "—",
                                 result=result_text(s, self.tr)))
            lines.append(self.tr("sessions.detail_path", host=s.host or "—", guest=s.guest or "—",
                                 direction=self.tr(f"sessions.from.{s.from_side}")))
            if s.match is not None:
                lines.append(self.tr("sessions.matched", why=match_words(s.match, self.lang)))
            for command in s.fixes_applied:
                lines.append(self.tr("sessions.fix_applied", command=command))
        if self.last_message:
            lines.insert(0, self.last_message)  # what just happened first: the box holds four lines
        self.query_one("#sessions-why", Static).update(Text("\n".join(lines[:4]), no_wrap=True, overflow="ellipsis"))

    def current(self) -> Any | None:
        table = self.query_one("#sessions", DataTable)
        if not self.summaries or table.cursor_row < 0 or table.cursor_row >= len(self.summaries):
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((s for s in self.summaries if s.id == key), None)

    @on(DataTable.RowHighlighted, "#sessions")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_why()
        near_end = event.cursor_row >= len(self.summaries) - 1
        if near_end and len(self.summaries) < self.total and not self._loading:
            self._loading = True
            self._load(self.search_text, len(self.summaries) + PAGE)

    @on(DataTable.RowSelected, "#sessions")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        """Enter on a row: the table takes the key first, so its selection is the replay."""
        self.action_replay()

    def on_resize(self) -> None:
        """The result column gets what the others leave: re-cut it for the new width."""
        if not self.is_mounted or not self.summaries:
            return
        table = self.query_one("#sessions", DataTable)
        for s in self.summaries:  # the column follows (wider or narrower), or a cut stays cut
            table.update_cell(s.id, "result", self._cells(s)[3], update_width=True)

    # -- search -------------------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#sessions-search", Input)
        box.display = True
        box.value = self.search_text
        box.focus()

    @on(Input.Submitted, "#sessions-search")
    def _search(self, event: Input.Submitted) -> None:
        self._start_query(event.value.strip())
        self.query_one("#sessions", DataTable).focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#sessions-search", Input)
        if box.has_focus or self.search_text:
            box.value = ""
            box.display = False
            self.query_one("#sessions", DataTable).focus()
            if self.search_text:
                self._start_query("")

    def _start_query(self, query: str) -> None:
        self.search_text = query
        self.summaries = []
        self.query_one("#sessions-search", Input).display = bool(query)
        self._load(query, PAGE)

    # -- actions on sessions ------------------------------------------------------------------------
    def action_replay(self) -> None:
        s = self.current()
        if s is not None:
            self.post_message(ReplayRequested(s.id))

    def action_mark(self) -> None:
        s = self.current()
        if s is None:
            return
        if s.id in self.marked:
            self.marked.remove(s.id)
        else:
            self.marked = [*self.marked, s.id][-2:]  # two at most: a diff compares two
        table = self.query_one("#sessions", DataTable)
        for summary in self.summaries:
            table.update_cell(summary.id, "when", self._cells(summary)[0])
        self.last_message = self.tr("sessions.marked", count=len(self.marked))
        self._show_why()

    def action_diff(self) -> None:
        if len(self.marked) != 2:
            self.last_message = self.tr("sessions.diff_needs_two")
            self._show_why()
            return
        older, newer = sorted(self.marked, key=lambda sid: next(
            (s.started for s in self.summaries if s.id == sid), 0.0))
        self.app.push_screen(DiffScreen(self.db, older, newer, self.lang))

    def action_export(self) -> None:
        s = self.current()
        if s is None:
            return
        self.app.push_screen(ExportDialog(s.id, self.lang, os.getcwd()), self._export)

    def _export(self, request: ExportRequest | None) -> None:
        if request is not None:
            self._write_export(request)

    @work(thread=True, exit_on_error=False, group="export")
    def _write_export(self, request: ExportRequest) -> None:
        """Worker: file I/O and redaction stay off the UI thread; the result comes back as a line."""
        from vnetdoctor.exports import export_to_file
        from vnetdoctor.probes.errors import UsageError
        from vnetdoctor.redact import RedactionError
        from vnetdoctor.store import SessionStore

        try:
            if os.path.lexists(request.path):
                raise UsageError(self.tr("sessions.export_exists", path=request.path))
            with SessionStore(self.db, readonly=True) as store:
                export_to_file(store, request.session_id, request.fmt, request.path,
                               redact=request.redact, lang=self.lang)
            text = self.tr("sessions.exported", path=request.path, fmt=request.fmt)
        except (UsageError, RedactionError, OSError) as exc:
            text = self.tr("sessions.export_failed", error=error_text(exc, self.lang))
        self.app.call_from_thread(self._said, text)

    def _said(self, text: str) -> None:
        self.last_message = text
        self._show_why()
