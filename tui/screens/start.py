"""Start: pick what cannot be reached, from where, and which port; Enter opens the walk.

The candidates (libvirt domains, VMware/VirtualBox interfaces, lab instances,
namespaces) are discovered in a worker; until they arrive the form already
works, and a source that could not be read says why under the table. Picking a
row fills the form and starts the walk; typing an address is checked as you
type, with the reason next to the form rather than a refusal after the fact.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, RadioButton, RadioSet, Static
from textual.widgets.data_table import ColumnKey

from vnetdoctor.knowledge.text import Translator
from vnetdoctor.knowledge.text_data import texts

from ..emphasis import emphasis
from vnetdoctor.session.request import RequestError, parse_port, parse_request, parse_target

from ..glyphs import ascii_glyphs, glyph
from ..i18n import translate_bindings
from ..messages import TargetsFound
from ..state import SessionState
from vnetdoctor.session.targets import Target, discover
from ..widgets.list_keys import ListTable
from ..widgets.title_bar import TitleBar
from .commands import PaletteCommand, ScreenCommands, binding_commands

COLUMNS = ("kind", "name", "state", "address", "mac", "note")

# The three directions the form offers: (radio button, the request's from_side).
DIRECTIONS = {
    "host_to_guest": "host",
    "guest_to_host": "guest",
    "guest_to_outside": "guest",
}
# The form's input for each field of the request (where an error is shown and focused).
FIELD_INPUTS = {"target": "#address", "port": "#port", "host": "#host-side", "guest": "#guest-side",
                "from_side": "#direction"}
# The label of each field, as the form names it.
FIELD_LABELS = {"target": "start.field_address", "port": "start.field_port", "host": "start.field_host",
                "guest": "start.field_guest", "from_side": "start.direction"}


class MarkedRadioButton(RadioButton):
    """A radio button whose state shows as ``(●)`` / ``( )`` (``(*)`` on the Linux console): readable
    without colour.

    Textual's compact radio button draws the same glyph either way and lets the
    colour tell which one is on; with NO_COLOR or on a 16-colour console that
    would hide the chosen direction.
    """

    @property
    def _button(self) -> Content:
        return Content(("(*)" if ascii_glyphs() else "(●)") if self.value else "( )")


class StartCommands(ScreenCommands):
    """The Start screen's palette: its keys, plus "walk <target>" for each discovered target."""


class StartScreen(Screen[None]):
    COMMANDS: ClassVar[set[type[Provider]]] = {StartCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "start.start", id="start.start"),
        Binding("ctrl+r", "refresh", "start.refresh", id="start.refresh"),
        Binding("ctrl+t", "focus_targets", "start.focus_targets", id="start.focus_targets"),
        Binding("ctrl+a", "focus_address", "start.focus_address", id="start.focus_address", show=False),
    ]

    def __init__(self, state: SessionState, *, discover_fn: Any = discover) -> None:
        super().__init__()
        self.state = state
        self.tr = Translator(state.lang)
        self.targets: dict[str, Target] = {}
        self._discover_fn = discover_fn
        translate_bindings(self, state.lang)

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield TitleBar(Text("vnetdoctor", style="bold"), Text(tr("start.subtitle"), style="italic"))
        with Vertical(id="start-body"):
            yield Static(tr("start.pick_heading"), classes="section")
            table: DataTable[str] = ListTable(id="targets", cursor_type="row", zebra_stripes=False)
            yield table
            yield Static(Text(tr("start.discovering"), style="dim italic"), id="discovery-notes")
            yield Static(tr("start.form_heading"), classes="section")
            with Vertical(id="form"):
                with Horizontal(classes="form-row"):
                    yield Label(tr("start.address"), classes="form-label")
                    yield Input(placeholder="198.18.0.11", id="address", compact=True)
                    yield Label(tr("start.port"), classes="form-label form-label-short")
                    yield Input(placeholder=tr("start.port_placeholder"), id="port", compact=True,
                                max_length=5, classes="port")
                with Horizontal(classes="form-row direction-row"):
                    yield Label(tr("start.direction"), classes="form-label")
                    with RadioSet(id="direction", compact=True):
                        for i, name in enumerate(DIRECTIONS):
                            yield MarkedRadioButton(tr(f"start.dir_{name}", arrow=glyph("right")),
                                                    value=(i == 0), id=f"dir-{name}", compact=True)
                with Horizontal(classes="form-row"):
                    yield Label(tr("start.host_side"), classes="form-label")
                    yield Input(value="local", id="host-side", compact=True)
                    yield Label(tr("start.guest_side"), classes="form-label form-label-short")
                    yield Input(placeholder="netns:NAME | libvirt:DOMAIN", id="guest-side", compact=True)
                with Horizontal(classes="form-row error-row"):
                    yield Static("", id="form-error")
                    yield Button(tr("start.start"), id="start-button", variant="primary", compact=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#targets", DataTable)
        for col in COLUMNS:  # fixed widths, set from the texts as rows arrive (_fit_columns)
            label = self.tr(f"start.col_{col}")
            table.add_column(label, key=col, width=cell_len(label))
        self._discover()
        table.focus()

    def help_intro(self) -> str:
        return self.tr("start.help_intro")

    def on_resize(self) -> None:
        """Below the width the three directions need side by side, they stack.

        A radio cut at the screen edge ("( ) gues") hides a choice; the body scrolls,
        so the rows below (host, guest, the start button) stay reachable on 60x20.
        """
        if not self.is_mounted:
            return
        radios = self.query("#direction RadioButton")
        needed = 12 + sum(cell_len(str(r.label)) + 3 + 1 + 2 for r in radios) + 2
        self.query_one("#start-body").set_class(self.size.width < needed, "narrow")
        if self.targets:  # the note column takes what the new width leaves
            self._fit_columns(self.query_one("#targets", DataTable))

    # -- discovery ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="discover")
    def _discover(self) -> None:
        targets, notes = self._discover_fn()
        self.post_message(TargetsFound(targets, notes))

    def on_targets_found(self, message: TargetsFound) -> None:
        table = self.query_one("#targets", DataTable)
        wanted: dict[str, Target] = {t.key: t for t in message.targets}
        with self.app.batch_update():
            for key in list(self.targets):
                if key not in wanted:
                    table.remove_row(key)
                    del self.targets[key]
            for key, target in wanted.items():
                if key not in self.targets:
                    table.add_row(*self._cells(target), key=key)
                self.targets[key] = target
            self._fit_columns(table)  # writes every cell, a changed target's included
        notes = self.query_one("#discovery-notes", Static)
        lines = [self.tr("start.found", n=len(wanted))] + [f"- {n}" for n in message.notes]
        notes.update(Text("\n".join(lines), style="dim"))

    def _fit_columns(self, table: DataTable[Any]) -> None:
        """Each column as wide as its widest text, the note column cut to what the screen leaves;
        every cell is written again from :attr:`targets`.

        DataTable's own auto-width is measured on idle, and a row drawn before that keeps
        its cells cropped to the header's width in the render cache (its key has no width):
        under load the list read "vnd-  up  198.18.  fire". Widths set here, before the
        cells are redrawn, cannot go stale; a same-value update redraws each cell.
        """
        cells = {key: self._cells(t) for key, t in self.targets.items()}
        widths = [max([cell_len(self.tr(f"start.col_{col}")), *(c[i].cell_len for c in cells.values())])
                  for i, col in enumerate(COLUMNS)]
        # The screen's width: the table's own is the old one while the terminal is resized.
        room = self.size.width - 2 * table.cell_padding * len(COLUMNS) - 3  # padding, gutter, scrollbar
        widths[-1] = max(cell_len(self.tr("start.col_note")), min(widths[-1], room - sum(widths[:-1])))
        for col, col_width in zip(COLUMNS, widths):
            table.columns[ColumnKey(col)].width = col_width
        for key, row in cells.items():
            for col, cell in zip(COLUMNS, row):
                if col == "note" and cell.cell_len > widths[-1]:  # cut, and saying so
                    cell.truncate(widths[-1], overflow="ellipsis")
                table.update_cell(key, col, cell, update_width=False)
        table.refresh()

    def on_worker_state_changed(self, event: Any) -> None:
        from textual.worker import WorkerState

        if event.worker.group == "discover" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#discovery-notes", Static).update(
                Text(self.tr("start.discovery_failed", error=f"{type(error).__name__}: {error}"), style="bold")
            )

    def _cells(self, t: Target) -> tuple[Text, ...]:
        """A row of the table; Text, so that a name like ``:ab:`` is never read as markup."""
        note = self.tr(t.note) if t.note.startswith("start.") else t.note
        return tuple(Text(c) for c in (
            self.tr(f"start.kind_{t.kind}"),
            t.name,
            self._state(t.state) if t.state else "—",
            ", ".join(t.addresses) or "—",
            ", ".join(t.macs) or "—",
            note,
        ))

    def _state(self, state: str) -> str:
        """A target's state in the operator's language; a state no text names is shown as reported."""
        key = f"start.state_{state.lower().replace(' ', '_')}"
        return self.tr(key) if key in texts() else state

    # -- picking and validating -------------------------------------------------------------------
    @on(DataTable.RowSelected, "#targets")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        target = self.targets.get(str(event.row_key.value))
        if target is not None:
            self.use_target(target, start=True)

    def use_target(self, target: Target, *, start: bool) -> None:
        """Fill the form from a discovered target; start the walk when it is complete."""
        self.query_one("#address", Input).value = target.target or ""
        self.query_one("#host-side", Input).value = target.host or "local"
        self.query_one("#guest-side", Input).value = target.guest or ""
        if target.port:
            self.query_one("#port", Input).value = str(target.port)
        direction = "host_to_guest" if target.from_side == "host" else "guest_to_host"
        self.query_one(f"#dir-{direction}", RadioButton).value = True
        if start:
            self.action_start()

    @on(Input.Changed, "#address")
    def _address_changed(self, event: Input.Changed) -> None:
        self._check_field(lambda: parse_target(event.value, lang=self.state.lang))

    @on(Input.Changed, "#port")
    def _port_changed(self, event: Input.Changed) -> None:
        self._check_field(lambda: parse_port(event.value))

    def _check_field(self, check: Any) -> None:
        try:
            check()
        except RequestError as err:
            self._show_error(err)
        else:
            self._show_error(None)

    def _show_error(self, err: RequestError | None) -> None:
        box = self.query_one("#form-error", Static)
        if err is None:
            box.update("")
            return
        label = self.tr(FIELD_LABELS.get(err.field, "start.field_address"))
        reason = self.tr("start.field_error", field=label, reason=self.tr(err.key, **err.fmt))
        box.update(Text(f"{glyph('fail')} {reason}", style=emphasis("bold red")))
        # The reason is the body's last row: all its lines in view, also when the body scrolls.
        self.query_one("#start-body").scroll_end(animate=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    @on(Button.Pressed, "#start-button")
    def _start_pressed(self, event: Button.Pressed) -> None:
        self.action_start()

    def _direction(self) -> str:
        pressed = self.query_one("#direction", RadioSet).pressed_button
        return (pressed.id or "dir-host_to_guest").removeprefix("dir-") if pressed else "host_to_guest"

    def action_start(self) -> None:
        try:
            # The session's one parser, as `diagnose` and `tui --target` use it.
            request = parse_request(
                target=self.query_one("#address", Input).value,
                port=self.query_one("#port", Input).value,
                from_side=DIRECTIONS.get(self._direction(), "host"),
                host=self.query_one("#host-side", Input).value,
                guest=self.query_one("#guest-side", Input).value,
                lang=self.state.lang,
            )
        except RequestError as err:
            self._show_error(err)
            self.query_one(FIELD_INPUTS.get(err.field, "#address")).focus()
            return
        self._show_error(None)
        self.app.open_walk(request)  # type: ignore[attr-defined]

    def action_refresh(self) -> None:
        self.query_one("#discovery-notes", Static).update(Text(self.tr("start.discovering"), style="dim italic"))
        self._discover()

    def action_focus_targets(self) -> None:
        self.query_one("#targets", DataTable).focus()

    def action_focus_address(self) -> None:
        self.query_one("#address", Input).focus()

    def palette_commands(self) -> list[PaletteCommand]:
        commands = binding_commands(self)
        for target in self.targets.values():
            commands.append(
                PaletteCommand(
                    self.tr("start.walk_target", name=f"{self.tr(f'start.kind_{target.kind}')} {target.name}"),
                    target.guest or target.target or "",
                    lambda t=target: self.use_target(t, start=True),
                )
            )
        return commands
