"""The Sessions screen on the production app: list, pages, search with its reason, marks, diff, export, replay.

A colleague opening yesterday's records must find the session, see what it
concluded and which fix healed it, compare it with another and hand it on as a
file — all at 80x24, from the keyboard. The database is built with fixed ids and
times so the snapshot is deterministic.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.unit.support import store_fixtures as F
from vnetdoctor.probes.pcapng import read_pcapng
from vnetdoctor.store import SessionStore
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.launch import build_app
from vnetdoctor.tui.screens.session_dialogs import DiffScreen, ExportDialog
from vnetdoctor.tui.screens.sessions import SessionsScreen
from vnetdoctor.tui.state import SessionState

T0 = 1_790_000_000.0  # 2026-09-21 (UTC)


def _rename(path: Path, old: str, new: str, started: float) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("PRAGMA foreign_keys=OFF")
        for table in ("steps", "causes", "packets", "events"):
            con.execute(f"UPDATE {table} SET session_id=? WHERE session_id=?", (new, old))
        con.execute("UPDATE sessions SET id=?, started=?, finished=? WHERE id=?", (new, started, started + 2, old))
    con.close()


def build_db(path: Path, extra: int = 0) -> dict[str, str]:
    """Three sessions with fixed ids (broken, healthy, healed by a fix) and ``extra`` healthy ones."""
    with SessionStore(path) as st:
        made = {"broken": F.record(st, fixed=False), "healthy": F.record(st, fixed=True, scenario="healthy"),
                "fixed": F.record_fixed(st)}
        made.update({f"x{n}": F.record(st, fixed=True, scenario="healthy") for n in range(extra)})
    ids = {}
    for n, (name, sid) in enumerate(made.items()):
        ids[name] = f"20260921-0{n // 60:03d}{n % 60:02d}-{name[:4]:<4}".replace(" ", "0")
        _rename(path, sid, ids[name], T0 - 60 * n - (0 if name != "broken" else 7200))
    return ids


def _app(path: Path, lang: str = "en") -> VnetDoctorApp:
    return build_app(SessionState(request=None, lang=lang, sessions_db=path), lambda *a: None)


async def _loaded(pilot: Any, count: int | None = None) -> SessionsScreen:
    screen = pilot.app.screen
    for _ in range(100):
        await pilot.pause(0.05)
        screen = pilot.app.screen
        if isinstance(screen, SessionsScreen) and screen.summaries and (count is None or len(screen.summaries) >= count):
            return screen
    raise AssertionError(f"sessions never loaded: {getattr(screen, 'summaries', None)!r}")


def run_screen(path: Path, body: Any, state: SessionState | None = None) -> None:
    """Run the production app on the Sessions screen of ``path`` and await ``body(pilot, screen)``."""

    async def run() -> None:
        app = build_app(state or SessionState(request=None, lang="en", sessions_db=path), lambda *a: None)
        async with app.run_test(size=(80, 24)) as pilot:
            await body(pilot, await _loaded(pilot))

    asyncio.run(run())


def _why(screen: SessionsScreen) -> str:
    return str(screen.query_one("#sessions-why").render())


def test_lists_newest_first_with_the_highlighted_sessions_detail(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    ids = build_db(path)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        order = [s.id for s in screen.summaries]
        assert order == [ids["healthy"], ids["fixed"], ids["broken"]]  # newest first
        screen.query_one("#sessions").move_cursor(row=order.index(ids["fixed"]))
        await pilot.pause()
        why = _why(screen)
        assert ids["fixed"] in why and "fixed: firewall.guest_blocks" in why
        assert "fix applied: ip netns exec vndt-guest nft delete rule" in why
        assert "ping from the host" in why

    run_screen(path, body)


def test_pages_load_as_the_cursor_reaches_the_end(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    build_db(path, extra=230)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        assert len(screen.summaries) == 200 and screen.total == 233
        assert "200 of 233" in str(screen.query_one("#title-right").render())
        await pilot.press("G")
        screen = await _loaded(pilot, count=233)
        assert len({s.id for s in screen.summaries}) == 233

    run_screen(path, body)


def test_search_ranks_and_says_why_esc_clears(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    ids = build_db(path)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        await pilot.press("slash", *"guest_blocks", "enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if screen.search_text and screen.summaries and len(screen.summaries) < 3:
                break
        assert {s.id for s in screen.summaries} == {ids["broken"], ids["fixed"]}
        assert "matched: cause firewall.guest_blocks" in _why(screen)
        await pilot.press("escape")
        await _loaded(pilot, count=3)
        assert screen.search_text == "" and len(screen.summaries) == 3

    run_screen(path, body)


def test_two_marked_sessions_diff_and_one_mark_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    ids = build_db(path)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        await pilot.press("space", "d")
        assert "Mark two sessions" in _why(screen)
        await pilot.press("j", "j", "space")  # the healthy one and the broken one
        assert "2 of 2 marked" in _why(screen)
        await pilot.press("d")
        await pilot.pause(0.5)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(pilot.app.screen, DiffScreen)
        text = str(pilot.app.screen.query_one("#diff-text").render())
        assert "firewall.guest_blocks" in text
        await pilot.press("q")
        assert isinstance(pilot.app.screen, SessionsScreen)

    run_screen(path, body)


def test_export_pcapng_writes_named_interfaces_and_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.db"
    ids = build_db(path)
    monkeypatch.chdir(tmp_path)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        order = [s.id for s in screen.summaries]
        screen.query_one("#sessions").move_cursor(row=order.index(ids["broken"]))
        for attempt in range(2):
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(pilot.app.screen, ExportDialog)
            await pilot.press("down", "down", "tab", "tab", "enter")
            await pilot.pause(0.3)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            out = tmp_path / f"vnetdoctor-{ids['broken']}.pcapng"
            assert out.exists()
            if attempt == 0:
                assert "exported pcapng to" in _why(screen)
                frames = read_pcapng(out.read_bytes())
                assert {f.interface.name for f in frames} == {"host:vnet0"}
                first = out.read_bytes()
            else:
                assert "exists; choose another name" in _why(screen)
                assert out.read_bytes() == first

    run_screen(path, body)


def test_q_closes_the_export_dialog_but_is_a_letter_in_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    build_db(path)

    async def body(pilot: Any, screen: SessionsScreen) -> None:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ExportDialog)
        await pilot.press("q")  # on the format list: closes, as q does in every dialog
        await pilot.pause()
        assert pilot.app.screen is screen
        await pilot.press("e")
        await pilot.pause()
        dialog = pilot.app.screen
        await pilot.press("tab", "tab", "end", "q")  # in the file name: typed
        await pilot.pause()
        assert pilot.app.screen is dialog and dialog.query_one("#export-path").value.endswith(".mdq")
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen

    run_screen(path, body)


def test_enter_hands_the_session_to_replay(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    build_db(path)

    async def run() -> None:
        state = SessionState(request=None, lang="en", sessions_db=path)
        app = build_app(state, lambda *a: None)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _loaded(pilot)
            chosen = screen.summaries[1].id
            await pilot.press("j", "enter")
            await pilot.pause()
        assert state.replay_choice == chosen

    asyncio.run(run())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sessions_snapshot_80x24(snap_compare: Any, tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time as _time

    _time.tzset()
    path = tmp_path / "s.db"
    build_db(path)

    async def run_before(pilot: Any) -> None:
        screen = await _loaded(pilot, count=3)
        screen.db = Path("/var/lib/vnetdoctor/sessions.db")  # the detail never shows it; keeps paths stable
        await pilot.press("j")
        await pilot.pause()

    try:
        assert snap_compare(_app(path, lang), terminal_size=(80, 24), run_before=run_before)
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()


def test_sessions_command_replays_the_choice_then_lists_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal `vnetdoctor sessions` opens the screen; a chosen session is replayed, then the
    list comes back with it highlighted; q on the list ends the command. In a pipe: the table."""
    import argparse

    from vnetdoctor.commands import replay, sessions

    runs: list[SessionState] = []
    picks = iter(["20260921-000000-brok", "20260921-000000-brok", None])

    def fake_run_app(state: SessionState, _factory: Any) -> int:
        runs.append(state)
        state.replay_choice = next(picks)
        return 0

    replayed: list[str] = []
    monkeypatch.setattr("vnetdoctor.tui.launch.run_app", fake_run_app)
    monkeypatch.setattr(replay, "run", lambda a: replayed.append(a.session) or 0)
    for stream in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(getattr(sys, stream), "isatty", lambda: True)
    args = argparse.Namespace(db=str(tmp_path / "s.db"), json=False, table=False, search="fire", lang="en",
                              limit=50, all=False)
    assert sessions.run(args) == 0
    assert replayed == ["20260921-000000-brok"] * 2  # the same one twice: each pick is honoured
    assert [s.sessions_focus for s in runs] == [None, "20260921-000000-brok", "20260921-000000-brok"]
    assert all(s.sessions_query == "fire" and s.sessions_db == tmp_path / "s.db" for s in runs)


def test_the_result_column_follows_the_terminal_width_both_ways(tmp_path: Path) -> None:
    """Started at 60 columns and widened to 80, the results stayed cut at 12 characters:
    the cells were re-cut but the column kept its first width."""
    path = tmp_path / "s.db"
    ids = build_db(path)

    async def run() -> None:
        app = _app(path)
        async with app.run_test(size=(60, 20)) as pilot:
            screen = await _loaded(pilot, count=3)
            table = screen.query_one("#sessions")
            row = [s.id for s in screen.summaries].index(ids["fixed"])
            assert str(table.get_cell_at((row, 3))) == "fixed: fire…"
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.2)
            wide = str(table.get_cell_at((row, 3)))
            assert wide == "fixed: firewall.guest_b…"
            assert table.columns[table.ordered_columns[3].key].content_width >= len(wide)
            await pilot.resize_terminal(60, 20)
            await pilot.pause(0.2)
            assert table.columns[table.ordered_columns[3].key].content_width == len("fixed: fire…")

    asyncio.run(run())


def test_export_dialog_snapshot_60x20_every_format_and_the_whole_hint(snap_compare: Any, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """At 60 columns the pcap choice was below the list's fold and the hint was cut ("esc canc")."""
    path = tmp_path / "s.db"
    build_db(path)
    monkeypatch.chdir("/")  # the default file name shows the working directory

    async def run_before(pilot: Any) -> None:
        await _loaded(pilot, count=3)
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(_app(path), terminal_size=(60, 20), run_before=run_before)


def test_on_the_linux_console_arrows_and_cuts_are_ascii(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TERM=linux draws → and … as blanks or diamonds: the path and a cut result must still read."""
    monkeypatch.setenv("TERM", "linux")
    path = tmp_path / "s.db"
    build_db(path)

    async def run() -> None:
        async with _app(path).run_test(size=(60, 20)) as pilot:
            screen = await _loaded(pilot, count=3)
            table = screen.query_one("#sessions")
            cells = [str(table.get_cell_at((r, c))) for r in range(3) for c in range(4)]
            labels = [str(c.label) for c in table.ordered_columns]
            assert not any("→" in x or "…" in x for x in cells + labels), cells + labels
            assert "HOST->GUEST" in labels and any(x.endswith("...") for x in cells)
            assert any("vndt-host->vndt-guest" in x for x in cells)

    asyncio.run(run())
