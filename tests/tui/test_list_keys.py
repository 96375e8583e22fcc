"""Keys as k9s/lazygit users expect: j/k/g/G/Home/End in every list, q/esc close help and
dialogs without side effects, a hint for f without --allow-changes, and the question as a
numbered list of human labels that fits 80x24.

Each key test records the cursor before and after, so a key that does nothing fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.support.views import (
    FakeRunner,
    live_state,
    lost_at_guest,
    recorded_state,
    standard_answers,
    views_app,
)
from tests.tui.support.engine import MemoryStore, QUESTION, console_question, make_app, with_console_step
from tests.tui.support.targets import discover
from textual.widgets import DataTable, OptionList
from vnetdoctor.knowledge import flowchart
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.tui.screens.dialogs import FixConfirmDialog, QuestionDialog
from vnetdoctor.tui.screens.help import HelpScreen
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.start import StartScreen
from vnetdoctor.tui.screens.tables import TablesScreen, TableView
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.tui.widgets.flowchart import VERDICT, FlowchartSidebar
from vnetdoctor.tui.widgets.packet_list import PacketList
from tests.tui.support.waiting import screen_text, settle, showing, wait_until



SIZE = (80, 24)


async def _moves(pilot: Any, position: Any, first: int, last: int) -> None:
    """j/k/G/g/End/Home on the focused list, checking the position after each key."""
    await pilot.press("g")
    assert position() == first
    await pilot.press("j")
    after_j = position()
    assert after_j > first
    await pilot.press("k")
    assert position() == first
    await pilot.press("G")
    assert position() == last
    await pilot.press("k")
    assert position() < last
    await pilot.press("end")
    assert position() == last
    await pilot.press("home")
    assert position() == first


async def test_walk_sidebar_moves_with_j_k_g_G_home_end() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(FlowchartSidebar)
        bar.focus()
        await pilot.pause()
        options = [bar.get_option_at_index(i) for i in range(bar.option_count)]
        enabled = [i for i, o in enumerate(options) if not o.disabled]
        await _moves(pilot, lambda: bar.highlighted, enabled[0], enabled[-1])
        await pilot.press("G")
        assert bar.current() == VERDICT  # the last row is the verdict, and its pane shows
        assert isinstance(app.screen, WalkScreen)


async def test_start_targets_move_with_j_k_g_G_home_end() -> None:
    app, _ = make_app(request=None, discover_fn=discover)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        table = app.screen.query_one("#targets", DataTable)
        table.focus()
        await pilot.pause()
        assert table.row_count >= 3
        await _moves(pilot, lambda: table.cursor_row, 0, table.row_count - 1)


async def test_tables_rows_move_with_j_k_g_G_home_end() -> None:
    state = live_state()
    app = views_app(lambda: TablesScreen(state, runner=FakeRunner(standard_answers())), state.lang)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        view = screen.query_one("#tv-links", TableView)
        await wait_until(pilot, lambda: view.loaded and "links" not in screen._loading_tables, what="links")
        await pilot.pause()
        view.table.focus()
        await pilot.pause()
        await _moves(pilot, lambda: view.table.cursor_row, 0, view.table.row_count - 1)
        assert isinstance(app.screen, TablesScreen)


async def test_recorded_packets_move_with_j_k_g_G_home_end() -> None:
    rows = lost_at_guest()
    state = recorded_state(rows)
    app = views_app(lambda: PacketsScreen(state, capture_blocked=lambda: None), state.lang)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.mode == "recorded")
        packets = screen.query_one(PacketList)
        await wait_until(pilot, lambda: packets.row_count == len(rows), what="the packets")
        packets.focus()
        await pilot.pause()
        await _moves(pilot, lambda: packets.cursor_row, 0, packets.row_count - 1)


async def test_a_screen_key_on_j_wins_over_the_list_key() -> None:
    # The keymap moves "next step" to j: j runs the next step instead of moving the sidebar.
    app, deps = make_app(autorun=False, keymap={"walk.next": "j"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(FlowchartSidebar)
        bar.focus()
        await pilot.press("j")
        await settle(pilot)
        assert deps.engines[0].calls == ["symptom.ping", "platform.libvirt"]
        before = bar.highlighted
        assert before is not None
        await pilot.press("k")  # k still moves the list
        await settle(pilot)
        assert bar.highlighted is not None and bar.highlighted < before


# --- the question -------------------------------------------------------------------------------


async def test_every_label_of_an_8_answer_question_shows_at_80x24() -> None:
    question = console_question()
    step = flowchart.step(question.step)
    assert len(question.choices) == 8
    app, _ = make_app(question=question, results=with_console_step)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        labels = [step.choice_label(c, "en") for c in question.choices]
        await wait_until(pilot, lambda: all(label in screen_text(app) for label in labels), what="every label")
        text = screen_text(app)
        for i, label in enumerate(labels, 1):
            assert f"{i} {label}" in text
        assert "no_nic" not in text and "wrong_subnet" not in text  # no raw ids


async def test_question_labels_in_chinese() -> None:
    question = console_question("zh")
    step = flowchart.step(question.step)
    app, _ = make_app(lang="zh", question=question, results=with_console_step)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        labels = [step.choice_label(c, "zh") for c in question.choices]
        await wait_until(pilot, lambda: all(label in screen_text(app) for label in labels), what="every label")


@pytest.mark.parametrize("digit", ["1", "5", "8"])
async def test_a_number_key_picks_that_answer(digit: str) -> None:
    question = console_question()
    app, deps = make_app(question=question, results=with_console_step)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        await pilot.press(digit)
        await settle(pilot)
        assert deps.engines[0].answers == [question.choices[int(digit) - 1]]


async def test_question_list_moves_and_enter_picks_the_highlighted_answer() -> None:
    question = console_question()
    app, deps = make_app(question=question, results=with_console_step)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        choices = app.screen.query_one("#choices", OptionList)
        assert app.screen.focused is choices
        await _moves(pilot, lambda: choices.highlighted, 0, 7)
        await pilot.press("j", "j", "j")
        assert choices.highlighted == 3
        await pilot.press("enter")
        await settle(pilot)
        assert deps.engines[0].answers == [question.choices[3]]  # "wrong_subnet"


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_esc_on_a_question_answer_dont_know_and_do_not_quit(key: str) -> None:
    app, deps = make_app(question=QUESTION)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        await pilot.press("j")  # a highlighted answer is not taken on close
        await pilot.press(key)
        await settle(pilot)
        assert deps.engines[0].answers == ["unknown"]
        assert isinstance(app.screen, WalkScreen) and app.is_running


# --- help and the fix dialog --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_esc_close_help_without_quitting(key: str) -> None:
    app, deps = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = list(deps.engines[0].calls)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: showing(app, HelpScreen), what="help")
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen) and app.is_running
        assert deps.engines[0].calls == calls


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_esc_cancel_the_fix_dialog(key: str) -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, deps = make_app(allow_changes=True, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = list(deps.engines[0].calls)
        await pilot.press("f")
        await wait_until(pilot, lambda: showing(app, FixConfirmDialog), what="the fix dialog")
        await pilot.press("right")  # even with Apply focused, q/esc cancel
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen) and app.is_running
        assert deps.engines[0].calls == calls
    recorder.close()
    assert [k for k, _ in store.sessions["s1"]["events"]] == ["fix_cancelled"]


@pytest.mark.parametrize(("lang", "words"), [("en", "--allow-changes; c copies"), ("zh", "按 c 复制命令")])
async def test_f_without_allow_changes_says_how_in_one_line(lang: str, words: str) -> None:
    app, deps = make_app(lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = list(deps.engines[0].calls)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)  # no dialog
        messages = [n.message for n in app._notifications]
        assert any(words in m and "\n" not in m for m in messages), messages
        assert deps.engines[0].calls == calls


async def test_f_in_a_replay_is_not_offered_and_gives_no_allow_changes_hint() -> None:
    app, _ = make_app(replay=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        assert not any("--allow-changes" in n.message for n in app._notifications)
