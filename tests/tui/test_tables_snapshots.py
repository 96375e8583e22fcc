"""Snapshots of the Tables screen at 80x24 and 160x48 (en, and zh at 80x24).

Deterministic: a fake probe runner with fixed rows; the firewall table shows a
skipped side's reason. ``--update-screenshots`` also writes the SVGs into ``screenshots/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.support.views import FakeRunner, live_state, standard_answers, views_app
from tests.tui.support.waiting import wait_until
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.screens.tables import TablesScreen, TableView



def _app(lang: str) -> VnetDoctorApp:
    runner = FakeRunner(standard_answers())
    return views_app(lambda: TablesScreen(live_state(lang), runner=runner), lang)


def _settle(screenshot: Any, name: str, presses: tuple[str, ...], table_id: str) -> Any:
    async def run_before(pilot: Any) -> None:
        screen = pilot.app.screen
        await pilot.press(*presses)
        view = screen.query_one(f"#tv-{table_id}", TableView)
        await wait_until(pilot, lambda: view.loaded and not screen._loading_tables, what="the table")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screenshot(pilot.app, name)

    return run_before


@pytest.mark.parametrize(
    ("size", "lang", "name", "presses", "table_id"),
    [
        pytest.param((80, 24), "en", "tables-80x24.svg", (), "links", id="tables-80x24"),
        pytest.param((160, 48), "en", "tables-160x48.svg", (), "links", id="tables-160x48"),
        pytest.param((80, 24), "en", "tables-firewall-80x24.svg", ("7",), "firewall", id="tables-firewall-80x24"),
        pytest.param((80, 24), "zh", "tables-80x24-zh.svg", ("3",), "routes", id="tables-80x24-zh"),
    ],
)
def test_tables_snapshot(snap_compare: Any, screenshot: Any, size: tuple[int, int], lang: str, name: str,
                         presses: tuple[str, ...], table_id: str) -> None:
    assert snap_compare(_app(lang), terminal_size=size, run_before=_settle(screenshot, name, presses, table_id))


def test_firewall_rule_in_full_snapshot(snap_compare: Any, screenshot: Any) -> None:
    """Enter on a firewall rule at 80x24: the whole rule, its counters and handle."""
    async def run_before(pilot: Any) -> None:
        from vnetdoctor.tui.screens.detail import DetailDialog

        screen = pilot.app.screen
        await pilot.press("7")
        view = screen.query_one("#tv-firewall", TableView)
        await wait_until(pilot, lambda: view.loaded and not screen._loading_tables, what="the table")
        await pilot.press("G", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DetailDialog), what="the rule in full")
        await pilot.pause()
        screenshot(pilot.app, "tables-firewall-detail-80x24.svg")

    assert snap_compare(_app("en"), terminal_size=(80, 24), run_before=run_before)
