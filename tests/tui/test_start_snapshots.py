"""The Start screen on the production app at 80x24 and 60x20.

At 60 columns the three directions do not fit side by side: a radio cut at the
edge ("( ) gues") hid a choice and the rows below it (host, guest, start) were off
screen for good. Now the directions stack and the body scrolls to the focused field.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.support.targets import discover
from tests.tui.support.waiting import settle, wait_until
from vnetdoctor.tui.launch import build_app
from vnetdoctor.tui.state import SessionState


def _app(lang: str = "en") -> Any:
    return build_app(SessionState(request=None, lang=lang), lambda *a: None, discover_fn=discover)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_start_snapshot_80x24(snap_compare: Any, lang: str) -> None:
    assert snap_compare(_app(lang), terminal_size=(80, 24), run_before=_settled)


def test_start_snapshot_60x20_directions_stack_and_the_form_scrolls_to_start(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _settled(pilot)
        pilot.app.screen.query_one("#start-button").focus()  # the last row: scrolled into view
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(60, 20), run_before=run_before)


async def _settled(pilot: Any) -> None:
    await settle(pilot)
    await wait_until(pilot, lambda: pilot.app.screen.targets, what="the discovered guests")
    await pilot.pause()


def test_start_snapshot_80x24_a_refused_name_is_said_whole(snap_compare: Any) -> None:
    """`ip netns add` takes names the vantage parser refuses (``vs2-m;$(touch x)'q``): the
    Start screen lists them, and the reason it gives on Enter was cut at the start button
    after the first few characters of the name. It wraps now."""

    async def run_before(pilot: Any) -> None:
        await _settled(pilot)
        pilot.app.screen.query_one("#guest-side").value = "netns:vs2-m;$(touch x)'q"
        pilot.app.screen.action_start()
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=run_before)


def test_start_snapshot_80x24_linux_console(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """TERM=linux has a 256-glyph font: the chosen direction was ``(●)`` and the arrows ``→``,
    both drawn as blanks or diamonds there. Now ``(*) host -> guest``, as the walk draws its marks."""
    monkeypatch.setenv("TERM", "linux")

    async def run_before(pilot: Any) -> None:
        await _settled(pilot)
        text = "\n".join(str(b.label) for b in pilot.app.screen.query("#direction RadioButton"))
        assert "→" not in text and "host -> guest" in text
        assert str(pilot.app.screen.query_one("#dir-host_to_guest")._button) == "(*)"

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=run_before)


async def test_a_targets_state_is_said_in_the_operators_language() -> None:
    """`--lang zh` showed "up" and "running" in the state column; an unknown state stays as reported."""
    from vnetdoctor.tui.screens.start import StartScreen

    app = _app("zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, StartScreen)
        assert screen._state("up") == "已启动" and screen._state("shut off") == "已关机"
        assert screen._state("LOWERLAYERDOWN") == "LOWERLAYERDOWN"
