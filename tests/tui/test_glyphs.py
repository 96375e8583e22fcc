"""The ASCII glyph set: chosen by TERM=linux or --ascii, used by every mark the TUI draws."""

from __future__ import annotations

import pytest
from tests.tui.support.engine import make_app
from textual.command import CommandPalette
from tests.tui.support.waiting import settle
from vnetdoctor.cli import build_parser
from vnetdoctor.tui.glyphs import ASCII, ENV, UNICODE, ascii_glyphs, glyph
from vnetdoctor.tui.widgets.flowchart import MARKS

BLOCKS = "▁▂▃▄▅▆▇█▉▊▋▌▍▎▏▐▕"


@pytest.fixture(autouse=True)
def _unicode_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv(ENV, "")  # recorded, so what main() sets is undone too


def test_the_linux_console_and_the_flag_choose_ascii(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not ascii_glyphs() and glyph("fail") == "✗" and MARKS["pass"] == "✓"
    monkeypatch.setenv("TERM", "linux")
    assert ascii_glyphs() and glyph("fail") == "[X]" and MARKS["pass"] == "[ok]"
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv(ENV, "1")
    assert [MARKS[s] for s in ("pass", "fail", "warn", "ask", "skip")] == ["[ok]", "[X]", "[!]", "[?]", "[-]"]


def test_both_sets_name_the_same_marks_and_ascii_is_ascii() -> None:
    assert set(ASCII) == set(UNICODE)
    assert all(m.isascii() for m in ASCII.values())


@pytest.mark.parametrize("command", ["tui", "replay", "demo"])
def test_the_ascii_flag_exists_where_a_screen_opens(command: str) -> None:
    assert build_parser().parse_args([command, "--ascii"]).ascii is True


def test_the_flag_reaches_the_screens(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() turns --ascii into the environment every screen and worker reads."""
    from vnetdoctor import cli

    seen = {}

    class Fake:
        @staticmethod
        def run(args):  # type: ignore[no-untyped-def]
            seen["ascii"] = ascii_glyphs()
            return 0

    real = cli.importlib.import_module  # the command is faked; the translator main() loads is not
    monkeypatch.setattr(cli.importlib, "import_module",
                        lambda name: Fake if name.startswith("vnetdoctor.commands.") else real(name))
    assert cli.main(["replay", "--ascii"]) == 0
    assert seen == {"ascii": True}


async def test_an_ascii_walk_draws_no_unicode_mark_or_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        svg = app.export_screenshot()
    assert "[X]" in svg and "[ok]" in svg
    assert not [c for c in "✓✗→←↑↓" + BLOCKS if c in svg]


async def test_the_palette_has_no_emoji_in_ascii(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#sidebar").focus()
        app.screen.goto("network.firewall")
        await pilot.press("enter")  # the step in full: a dialog, with an ASCII border too
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailDialog"
        assert not [c for c in "╭╮╰╯─│" if c in app.export_screenshot()]
        await pilot.press("escape", "ctrl+p")
        await settle(pilot)
        await pilot.pause(0.1)
        svg = app.export_screenshot()
        assert isinstance(app.screen, CommandPalette)
    assert "🔎" not in svg


def _non_ascii(text: str) -> list[str]:
    return sorted({c for c in text if not c.isascii()})


@pytest.mark.parametrize("first", ["start", "walk", "changes"])
async def test_ascii_folds_every_screens_text_not_only_the_marks(monkeypatch: pytest.MonkeyPatch,
                                                                 first: str) -> None:
    """Issue 10.4: evidence, notes, the verified list and Textual's own "…" come out ASCII too."""
    from tests.tui.support.targets import discover
    from tests.tui.support.waiting import screen_text

    monkeypatch.setenv("TERM", "linux")
    app, _ = (make_app(request=None, discover_fn=discover) if first == "start"
              else make_app(allow_changes=first == "changes"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if first == "changes":
            await pilot.press("x")  # the changes panel: its own border and text
            await settle(pilot)
        seen = [_non_ascii(screen_text(app)), _non_ascii(app.export_screenshot().split("<text", 1)[-1])]
    assert seen == [[], []]


def test_the_fold_keeps_every_cell_and_leaves_chinese_alone() -> None:
    from rich.cells import cell_len

    from vnetdoctor.knowledge.ascii_text import fold

    for text in ("netns:h → 198.18.0.11 — counter +3 • seen…", "╭─ é ▕▃▌ ✓✗ ·", "客户机 → 虚拟机"):
        assert cell_len(fold(text)) == cell_len(text)
    assert fold("netns:h → 198.18.0.11 — counter +3 • seen…") == "netns:h > 198.18.0.11 - counter +3 * seen."
    assert fold("客户机 → 虚拟机") == "客户机 > 虚拟机"


async def test_no_partial_block_is_left_after_a_toast_and_a_dialog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10.1: the stray ▃ ▅ ▌ ▉ were scroll bar thumbs' eighth-block ends; thumbs are whole cells."""
    from tests.tui.support.waiting import screen_text

    app, _ = make_app(allow_changes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")  # a toast over the verdict pane's scroll bar
        await settle(pilot)
        await pilot.press("f")  # a dialog over the sidebar's
        await settle(pilot)
        await pilot.press("escape")
        app.clear_notifications()
        await settle(pilot)
        await pilot.pause(0.2)
        text = screen_text(app)
        # The sidebar's right border (▕) is the only block glyph left.
        assert [c for c in BLOCKS.replace("▕", "") if c in text] == []


async def test_the_palette_asks_in_the_operators_language() -> None:
    app, _ = make_app(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.pause(0.1)
        svg = app.export_screenshot()
        assert isinstance(app.screen, CommandPalette)
    assert "索命令…" in svg and "Search for" not in svg  # the cursor cell splits off its first character
