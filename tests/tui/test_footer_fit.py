"""Footers fit the terminal: every key shown whole, none under the palette key; the sidebar narrows."""

from __future__ import annotations

import pytest
from tests.tui.support.engine import make_app
from tests.tui.support.waiting import settle
from textual.widgets._footer import FooterKey


def _footer_problems(app) -> list[str]:  # type: ignore[no-untyped-def]
    width = app.size.width
    keys = [k for k in app.screen.query(FooterKey) if k.display and k.region.width]
    palette = [k for k in keys if k.has_class("-command-palette")]
    problems = [f"{k.key_display} {k.description} ends at {k.region.right}" for k in keys if k.region.right > width]
    for p in palette:
        problems += [f"{k.key_display} {k.description} under the palette key" for k in keys
                     if k is not p and k.region.right > p.region.x]
    return problems


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
@pytest.mark.parametrize("keys", [(), ("p",), ("t",)], ids=["walk", "packets", "tables"])
async def test_footers_fit(size: tuple[int, int], keys: tuple[str, ...]) -> None:
    app, _ = make_app(replay=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        await pilot.pause(0.2)
        assert _footer_problems(app) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("keys", [(), ("t",)], ids=["walk", "tables"])
async def test_live_footers_fit_80_columns(keys: tuple[str, ...], lang: str) -> None:
    app, _ = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        await pilot.pause(0.2)
        assert _footer_problems(app) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("allow_changes", [False, True], ids=["read-only", "changes"])
async def test_the_live_walk_footer_fits_60_columns_and_keeps_help(lang: str, allow_changes: bool) -> None:
    """At 60 columns "a run all" leaves the footer so that "? help" stays whole; at 80 it is back."""
    app, _ = make_app(lang=lang, allow_changes=allow_changes)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        assert _footer_problems(app) == []
        shown = [k.key for k in app.screen.query(FooterKey) if k.display and k.region.width]
        assert shown[-2:] == ["q", "question_mark"] and "a" not in shown
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.pause(0.2)
        assert "a" in [k.key for k in app.screen.query(FooterKey) if k.display and k.region.width]


@pytest.mark.parametrize("size", [(80, 24)], ids=["80x24"])
async def test_the_walk_footer_fits_with_changes_allowed(size: tuple[int, int]) -> None:
    """--allow-changes adds f; c (still a key) and x (changes panel, in help) leave the footer."""
    app, _ = make_app(allow_changes=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        assert _footer_problems(app) == []
        shown = {k.key for k in app.screen.query(FooterKey) if k.display}
        assert "f" in shown and "c" not in shown and "x" not in shown


async def test_the_sidebar_narrows_below_100_columns() -> None:
    app, _ = make_app(replay=True)
    widths = {}
    for size in ((120, 30), (80, 24), (60, 20)):
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            widths[size[0]] = app.screen.query_one("#sidebar").region.width
        app, _ = make_app(replay=True)
    assert widths[120] >= 26 and widths[80] < 26 and widths[60] <= 19, widths


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_start_footer_fits(size: tuple[int, int], lang: str) -> None:
    """At 60 columns the Start screen's last key read "?  he": every key was padded twice."""
    app, _ = make_app(request=None, discover_fn=lambda: ([], []), lang=lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        assert _footer_problems(app) == []
