"""Saving the listed packets as a pcap: the file-name dialog, the overwrite question, the write.

The write never follows a symbolic link and never clobbers a file that appeared
after the operator was asked (see :func:`write_file`). :class:`PcapSaving` is the
Packets screen's part that drives it (split out of :mod:`.packets`, issue 9): it asks
for the name, asks again before replacing a file, and runs the write in a worker that
posts :class:`~.packets_source.PcapSaved`; the screen's handler for that message puts
the outcome on its status line. As a plain part it holds no ``BINDINGS`` and no
``@on`` handlers (Textual reads those from the screen only).
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from vnetdoctor.knowledge.text import Translator
from vnetdoctor.probes.capture import pcapng_bytes
from vnetdoctor.probes.rows import PacketRow

from ..i18n import translate_bindings
from .packets_source import PcapSaved

if TYPE_CHECKING:
    from .packets_capture import CaptureScreen

    _Base = CaptureScreen
else:
    _Base = object


class SaveDialog(ModalScreen[str | None]):
    """Asks for the pcap file name; Enter saves, esc cancels."""

    DEFAULT_CSS = """
    SaveDialog {
        align: center middle;
    }
    SaveDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    SaveDialog Input {
        width: 100%;
    }
    SaveDialog Label {
        width: 100%;  /* wraps: the prompt is longer than 70 cells (cut at 80 columns) */
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "packets.save.cancel", id="packets.save.cancel")]

    def __init__(self, text: Translator, default: str) -> None:
        super().__init__()
        self.text = text
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.text("packets.save.prompt"))
            yield Input(self.default, id="save-name", compact=True)
            yield Label(self.text("packets.save.hint"), classes="hint")

    def on_mount(self) -> None:
        translate_bindings(self, self.text.lang)
        self.query_one("#save-name", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OverwriteDialog(ModalScreen[bool]):
    """The file exists: replace it? *Cancel* has the focus, so Enter or esc keeps the file."""

    AUTO_FOCUS = "#keep"
    DEFAULT_CSS = """
    OverwriteDialog {
        align: center middle;
    }
    OverwriteDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        border: round $warning;
        padding: 0 1;
        background: $surface;
    }
    OverwriteDialog > Vertical > Label {
        width: 100%;  /* wraps: a long path stays whole */
    }
    OverwriteDialog Horizontal {
        height: auto;
        margin-top: 1;
    }
    OverwriteDialog Button {
        margin-right: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "packets.save.cancel", id="packets.save.overwrite_cancel"),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, text: Translator, path: str) -> None:
        super().__init__()
        self.text = text
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.text("packets.save.overwrite_title"), style="bold"))
            yield Label(Text(self.text("packets.save.overwrite_question", path=self.path)))
            with Horizontal():
                yield Button(self.text("packets.save.keep"), id="keep", variant="primary", compact=True)
                yield Button(self.text("packets.save.overwrite"), id="replace", variant="error", compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.text.lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "replace")

    def action_cancel(self) -> None:
        self.dismiss(False)


def write_file(path: str, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` without ever writing through a symbolic link.

    This runs as root, and ``path`` may be in a directory others can write: the
    bytes go to a new temporary file in the same directory (``mkstemp``: ``O_EXCL``,
    a name nobody could have prepared), which then takes ``path``'s place. Renaming
    replaces a symlink itself, never its target; without ``replace`` a hard link
    puts it there only if nothing (not even a dangling link) has that name, so a
    file that appeared after the operator was asked is not clobbered either.
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # as `export -o` writes: readable by the operator's own account
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise
            # A file system without hard links: O_EXCL|O_NOFOLLOW refuses any existing name.
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass  # renamed into place


class PcapSaving(_Base):
    """``s`` on the Packets screen: every shown packet to a pcapng file, named by the operator."""

    def default_pcap_name(self) -> str:
        stamp = self.state.session_id or time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        name = f"vnetdoctor-{stamp}.pcapng"  # one named interface per capture point
        return os.path.join(self._save_dir, name) if self._save_dir else name

    def action_save(self) -> None:
        self.app.push_screen(SaveDialog(self.text, self.default_pcap_name()), self._save_to)

    def _save_to(self, path: str | None) -> None:
        """A name that exists is never overwritten without asking (Cancel is the default)."""
        if not path:
            return
        full = os.path.abspath(os.path.expanduser(path))
        rows = self.shown_rows()  # a long recording's pages not listed yet are saved too
        if os.path.lexists(full) and not os.path.isdir(full):
            self.app.push_screen(
                OverwriteDialog(self.text, full),
                lambda replace: self._start_write(full, rows, replace=True) if replace else self._kept(full),
            )
            return
        self._start_write(full, rows, replace=False)

    def _kept(self, path: str) -> None:
        self.last_message = self.text("packets.save.not_saved", path=path)
        self._refresh_status()

    def _start_write(self, full: str, rows: list[PacketRow], *, replace: bool) -> None:
        self.run_worker(lambda: self._write(full, rows, replace), thread=True, group="save", exit_on_error=False)

    def _write(self, full: str, rows: list[PacketRow], replace: bool = False) -> None:
        """Worker: write the pcap (file I/O stays off the UI thread)."""
        try:
            if os.path.isdir(full):
                raise IsADirectoryError(21, "is a directory")
            write_file(full, pcapng_bytes(rows, self._side_names(localized=False)), replace=replace)
            count = len(rows)
        except OSError as exc:
            self.post_message(PcapSaved(full, error=exc.strerror or str(exc)))
            return
        except ValueError as exc:  # PcapError: frames of several link types, damaged hex
            self.post_message(PcapSaved(full, error=str(exc)))
            return
        self.post_message(PcapSaved(full, count))
