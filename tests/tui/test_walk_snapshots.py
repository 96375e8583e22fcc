"""Snapshots of the Start, Walk, Help and dialog screens at 80x24 and 160x48.

Deterministic: the fake engine has fixed data and durations, nothing shows a
clock, the focused widgets have no blinking cursor, and every shot waits for the
workers to finish. ``--update-screenshots`` also writes each shot to
``screenshots/`` (README shows them); ``--snapshot-update`` refreshes the stored
snapshots after a deliberate change.
"""

from __future__ import annotations

import pytest
from tests.tui.support.engine import console_question, make_app, with_console_step
from tests.tui.support.targets import discover
from tests.tui.support.waiting import settle, showing, wait_until
from vnetdoctor.tui.screens.dialogs import FixConfirmDialog, QuestionDialog
from vnetdoctor.tui.screens.help import HelpScreen
from vnetdoctor.tui.screens import walk_header


@pytest.fixture(autouse=True)
def _still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress line's seconds (shown while a question waits) are the same on every run."""
    monkeypatch.setattr(walk_header, "monotonic", lambda: 1000.0)


SIZES = [(80, 24), (160, 48)]


def _shot(screenshot, name: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    """A run_before step that saves the screen as screenshots/NAME-WxH.svg (--update-screenshots)."""

    def save(app) -> None:  # type: ignore[no-untyped-def]
        screenshot(app, f"{name}-{size[0]}x{size[1]}.svg")

    return save


def _size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_start(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app(request=None, discover_fn=discover)
    save = _shot(screenshot, "start", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_walk_verdict(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app()
    save = _shot(screenshot, "walk", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_walk_step(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app()
    save = _shot(screenshot, "walk-step", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("b", "b", "b")  # verdict → name resolution → TCP → firewall rules
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_walk_chinese(snap_compare, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app(lang="zh")
    save = _shot(screenshot, "walk-zh", (80, 24))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("b", "b", "b")
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_walk_replay(snap_compare, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app(replay=True)
    save = _shot(screenshot, "replay", (80, 24))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_help(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app()
    save = _shot(screenshot, "help", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: showing(pilot.app, HelpScreen), what="help")
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_question_dialog(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    # The 8-answer guest-console question: every label must show, even at 80x24.
    app, _ = make_app(question=console_question(), results=with_console_step)
    save = _shot(screenshot, "question", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_until(pilot, lambda: showing(pilot.app, QuestionDialog), what="the question")
        await pilot.pause()
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=_size_id)
def test_fix_confirm_dialog(snap_compare, size, screenshot) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app(allow_changes=True)
    save = _shot(screenshot, "fix-confirm", size)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: showing(pilot.app, FixConfirmDialog), what="the fix dialog")
        await pilot.pause()
        save(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)



@pytest.mark.parametrize(
    ("env", "name"),
    [("TERM", "walk-ascii"), ("NO_COLOR", "walk-no-color")],
    ids=["ascii", "no_color"],
)
def test_walk_plain(snap_compare, screenshot, monkeypatch: pytest.MonkeyPatch, env: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """TERM=linux: [ok] [X] [!] marks, ASCII arrows and borders, no block glyphs.
    NO_COLOR: the failure reads in bold reverse video and keeps its mark."""
    monkeypatch.setenv(env, "linux" if env == "TERM" else "1")
    app, _ = make_app()
    save = _shot(screenshot, name, (80, 24))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        save(pilot.app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
