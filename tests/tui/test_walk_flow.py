"""Pilot tests of the walk: every flow an operator takes, against the fake engine.

The fake engine runs in the screen's real thread workers and emits its events
from there, so these tests exercise the same threading as a live walk.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import replace

import pytest
from tests.tui.support.engine import (
    FIREWALL_FIX,
    FIREWALL_FIX_2,
    MemoryStore,
    QUESTION,
    make_app,
    scenario_results,
    with_fix,
)
from tests.tui.support.waiting import screen_text, settle, showing, wait_until
from vnetdoctor.knowledge.model import FAIL, PASS, Fix
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.tui.screens.dialogs import FixConfirmDialog, QuestionDialog
from vnetdoctor.tui.screens.help import HelpScreen
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.tui.widgets.findings import FixList
from vnetdoctor.tui.widgets.flowchart import RUNNING, VERDICT, FlowchartSidebar

SIZE = (80, 24)


def walk(app) -> WalkScreen:  # type: ignore[no-untyped-def]
    for screen in reversed(app.screen_stack):
        if isinstance(screen, WalkScreen):
            return screen
    raise AssertionError("no walk screen")


def sidebar(app) -> FlowchartSidebar:  # type: ignore[no-untyped-def]
    return walk(app).query_one(FlowchartSidebar)


async def test_walk_reaches_the_cause_and_its_fix() -> None:
    app, deps = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = walk(app)
        assert screen.complete
        assert sidebar(app).current() == VERDICT  # the walk jumps to the verdict when it is done
        assert sidebar(app).status("network.firewall") == FAIL
        assert sidebar(app).status("datalink.arp") == PASS
        text = screen_text(app)
        assert "198.18.0.11 is NOT reachable" in text
        assert "firewall.guest_blocks" in text
        assert "The guest's firewall drops the traffic" in text
        assert "nft delete rule inet" in text  # the fix, as a command
        assert "undo:" in text and "risk:" in text
        assert [e.calls for e in deps.engines] == [[r.step for r in scenario_results()]]


async def test_guided_walk_runs_one_step_at_a_time() -> None:
    app, deps = make_app(autorun=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        engine = deps.engines[0]
        assert engine.calls == ["symptom.ping"]  # only the first step runs by itself
        assert sidebar(app).current() == "symptom.ping"
        assert "Ping both ways" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert engine.calls == ["symptom.ping", "platform.libvirt"]
        assert sidebar(app).current() == "platform.libvirt"
        await pilot.press("b")  # back never runs anything
        await settle(pilot)
        assert sidebar(app).current() == "symptom.ping"
        assert engine.calls == ["symptom.ping", "platform.libvirt"]
        await pilot.press("down", "down")  # arrows in the sidebar move too (skipping layer headings)
        await settle(pilot)
        assert sidebar(app).current() == "physical.guest_nic"
        assert "Not run yet" in screen_text(app)
        await pilot.press("enter")  # Enter runs the highlighted step
        await settle(pilot)
        assert engine.calls[-1] == "physical.guest_nic"
        await pilot.press("a")
        await settle(pilot)
        assert walk(app).complete
        assert sidebar(app).status("network.firewall") == FAIL


async def test_packets_and_tables_open_from_the_walk_and_esc_comes_back() -> None:
    from vnetdoctor.tui.screens.packets import PacketsScreen
    from vnetdoctor.tui.screens.tables import TablesScreen

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.state.path_ifaces  # the engine's path is there for the capture
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PacketsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TablesScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        assert sidebar(app).current() == VERDICT  # where the operator left it


async def test_question_is_asked_in_a_modal_and_the_answer_goes_back_to_the_engine() -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, deps = make_app(question=QUESTION, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        await wait_until(pilot, lambda: QUESTION.text in screen_text(app), what="the question's text")
        assert sidebar(app).status(QUESTION.step) == RUNNING  # the engine waits on the operator
        await pilot.press("2")  # the second choice: "no"
        await settle(pilot)
        assert deps.engines[0].answers == ["no"]
        assert sidebar(app).status(QUESTION.step) == FAIL
        assert walk(app).complete
        # The answer failed its step without a cause id: the verdict still says so, as the operator's word.
        walk(app).goto(VERDICT)
        await settle(pilot)
        line = next(l for l in screen_text(app).splitlines() if "(your answer)" in l)
        assert "asked the operator (your answer)" in line
    recorder.close()
    events = store.sessions["s1"]["events"]
    assert ("answer", {"step": QUESTION.step, "question": QUESTION.text, "answer": "no"}) in events


async def test_esc_on_a_question_means_dont_know() -> None:
    app, deps = make_app(question=QUESTION)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        await pilot.press("escape")
        await settle(pilot)
        assert deps.engines[0].answers == ["unknown"]


async def test_quitting_while_the_engine_waits_on_a_question_releases_it() -> None:
    app, deps = make_app(question=QUESTION)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: showing(app, QuestionDialog), what="the question")
        await pilot.press("ctrl+q")  # q on the dialog answers "don't know"; ctrl+q quits from anywhere
        await pilot.pause()
    # The engine thread waiting in ask() was released when the walk went away.
    assert deps.engines[0].answered.wait(10)
    assert deps.engines[0].answers == ["unknown"]


async def test_copy_puts_the_highlighted_fix_on_the_clipboard() -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, _ = make_app(recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == FIREWALL_FIX.command
        # Pick the second fix with the keyboard: tab into the pane, tab to the list, down.
        fix_list = walk(app).query_one("#detail").visible_content.query_one(FixList)
        fix_list.focus()
        await pilot.press("down")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == FIREWALL_FIX_2.command
    recorder.close()
    copied = [d for kind, d in store.sessions["s1"]["events"] if kind == "fix_copied"]
    assert [d["command"] for d in copied] == [FIREWALL_FIX.command, FIREWALL_FIX_2.command]
    assert copied[0]["step"] == "network.firewall"


async def test_apply_fix_is_not_offered_without_allow_changes() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert all(b.binding.action != "apply_fix" for b in app.screen.active_bindings.values())
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)  # no dialog


async def test_apply_fix_dialog_defaults_to_cancel() -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, deps = make_app(allow_changes=True, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = list(deps.engines[0].calls)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FixConfirmDialog)
        text = screen_text(app)
        assert FIREWALL_FIX.command[:40] in text and "undo" in text and "low" in text
        assert app.screen.focused.id == "cancel"
        await pilot.press("enter")  # Enter on the default button: nothing happens
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert deps.engines[0].calls == calls
    recorder.close()
    assert [k for k, _ in store.sessions["s1"]["events"]] == ["fix_cancelled"]


async def test_applying_a_fix_runs_it_records_it_and_reruns_the_step(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "applied; touch x"  # a value, never shell text
    fix = Fix.of(("touch", str(marker)), ("rm", "-f", str(marker)), risk="low", where="local")
    results = with_fix(fix)
    fixed = replace(scenario_results()[10], status=PASS, note="no rule drops our echo requests", findings=())
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, deps = make_app(allow_changes=True, recorder=recorder, results=results,
                         fixed_results={"network.firewall": fixed})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("right")  # from Cancel to Apply, on purpose
        assert app.screen.focused.id == "apply"
        await pilot.press("enter")
        await settle(pilot)
        assert marker.exists() and not (tmp_path / "x").exists()
        assert deps.engines[0].calls.count("network.firewall") == 2  # the step ran again
        assert sidebar(app).status("network.firewall") == PASS
    recorder.close()
    applied = [d for kind, d in store.sessions["s1"]["events"] if kind == "fix_applied"]
    assert applied and applied[0]["returncode"] == 0 and applied[0]["command"] == fix.command


async def test_a_second_run_is_refused_while_one_runs_and_running_shows() -> None:
    gate = threading.Event()
    app, deps = make_app(gates={"network.firewall": gate})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: sidebar(app).status("network.firewall") == RUNNING, what="running mark")
        assert "…" in screen_text(app)  # the running mark reads without colour
        calls = list(deps.engines[0].calls)
        assert app.screen.active_bindings["r"].enabled is False  # shown dimmed in the footer
        await pilot.press("r", "a")
        await pilot.pause()
        assert deps.engines[0].calls == calls
        await pilot.press("enter")  # Enter on a step not run yet is refused with a word
        await pilot.pause()
        assert deps.engines[0].calls == calls
        await pilot.press("b", "b")  # navigation still answers while the engine works
        await pilot.pause()
        assert sidebar(app).current() is not None
        gate.set()
        await settle(pilot)
        assert walk(app).complete


async def test_quit_waits_while_a_fix_is_being_applied(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "hold"
    release = tmp_path / "go"

    def results():  # type: ignore[no-untyped-def]
        out = scenario_results()
        # The fix waits for a file to appear (polled with a deadline, the path passed as a
        # value), so the test can press q while it is running.
        wait = ("import os, sys, time\n"
                "for _ in range(200):\n"
                "    if os.path.exists(sys.argv[1]): sys.exit(0)\n"
                "    time.sleep(0.05)\n"
                "sys.exit(1)")
        fix = Fix.of((sys.executable, "-c", wait, str(release)), risk="low", where="local")
        out[10] = replace(out[10], findings=(replace(out[10].findings[0], fixes=(fix,)),))
        return out

    app, _ = make_app(allow_changes=True, results=results)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "right", "enter")
        await wait_until(pilot, lambda: walk(app).busy == "fix", what="fix running")
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, WalkScreen)
        assert any("fix is being applied" in n.message for n in app._notifications)
        release.write_text("")
        await settle(pilot)
        assert walk(app).busy is None
    assert not fifo.exists()


async def test_q_quits() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_help_lists_this_screens_keys_in_the_chosen_language() -> None:
    app, _ = make_app(lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert keys["n"] == "下一步" and keys["c"] == "复制命令" and keys["q"] == "退出"
        assert keys["enter"] == "运行/回答" and keys["?"] == "帮助"
        assert "f" not in keys  # apply fix is not available without --allow-changes
        await pilot.press("end")  # the help scrolls with the keyboard
        await pilot.pause()
        text = screen_text(app)
        assert "需要你回答" in text  # the marks' legend, in Chinese
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)


async def test_palette_offers_only_the_walks_commands() -> None:
    from vnetdoctor.tui.screens.commands import binding_commands

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = [c.name for c in walk(app).palette_commands()]
        assert "copy fix" in names and "go to: Firewall rules" in names and "quit" in names
        assert "apply fix" not in names
        await pilot.press("colon")
        await pilot.pause()
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"verdict")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert sidebar(app).current() == VERDICT
        assert binding_commands(walk(app))


async def test_bindings_can_be_remapped_by_id() -> None:
    app, deps = make_app(autorun=False, keymap={"walk.next": "j"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert deps.engines[0].calls == ["symptom.ping", "platform.libvirt"]
        await pilot.press("n")  # the old key is gone
        await settle(pilot)
        assert deps.engines[0].calls == ["symptom.ping", "platform.libvirt"]


async def test_the_walk_is_recorded() -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="demo", scenario="firewall.guest_blocks")
    app, _ = make_app(recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert recorder.flush()
        await pilot.pause()
        assert app.state.session_id == "s1"
    recorder.close()
    session = store.sessions["s1"]
    assert session["source"] == "demo" and session["scenario"] == "firewall.guest_blocks"
    assert [s.step for s in session["steps"]] == [r.step for r in scenario_results()]
    assert [f.cause for f in session["diagnosis"].causes] == ["firewall.guest_blocks"]


async def test_an_engine_failure_is_reported_not_raised() -> None:
    class Broken(Exception):
        pass

    def factory(request, ask, on_event):  # type: ignore[no-untyped-def]
        from tests.tui.support.engine import PATH, FakeEngine

        engine = FakeEngine(request, scenario_results(), ask=ask, on_event=on_event, points=PATH)

        def run():  # type: ignore[no-untyped-def]
            engine.run_step("symptom.ping")
            raise Broken("probe exploded")

        engine.run = run  # type: ignore[method-assign]
        return engine

    app, _ = make_app(engine_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("probe exploded" in n.message for n in app._notifications)
        assert walk(app).busy is None
        assert sidebar(app).status("symptom.ping") == FAIL  # what finished is kept
        await pilot.press("a")  # and the operator can try again
        await settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_walk_at_80x24_shows_marks_that_read_without_colour(lang: str) -> None:
    app, _ = make_app(lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        for mark in ("✓", "✗", "-"):
            assert mark in text
        lines = text.splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)


async def test_a_guest_fix_runs_inside_the_guest_through_its_agent() -> None:
    """A libvirt guest has no namespace here: its fix goes through the guest-agent runner."""
    from vnetdoctor.probes import nsexec

    fix = Fix.of(("nft", "delete", "rule", "inet", "filter", "input", "handle", "7"), risk="low",
                 where="libvirt:web01")
    ran: list[tuple[str, tuple[str, ...]]] = []

    def agent(vantage, argv, timeout):  # type: ignore[no-untyped-def]
        ran.append((str(vantage), tuple(argv)))
        return nsexec.CommandResult(tuple(argv), 0, "", "")

    def results():  # type: ignore[no-untyped-def]
        out = scenario_results()
        out[10] = replace(out[10], findings=(replace(out[10].findings[0], fixes=(fix,)),))
        return out

    saved = dict(nsexec._guest_runners)
    nsexec.register_guest_runner("libvirt", agent)
    try:
        app, _ = make_app(allow_changes=True, results=results)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f", "right", "enter")
            await settle(pilot)
    finally:
        nsexec._guest_runners.clear()
        nsexec._guest_runners.update(saved)
    # guest-exec gets the argv (path + args), never a shell.
    assert ran == [("libvirt:web01", fix.argv)]


async def test_guidance_is_shown_as_what_it_needs_and_never_copied_or_applied() -> None:
    """A fix whose values are not all known has no command: c and f refuse it, visibly."""
    guidance = Fix.guidance(("service",), risk="low", where="netns:vnd-guest", note="start the service")
    ran: list[object] = []

    def results():  # type: ignore[no-untyped-def]
        out = scenario_results()
        out[10] = replace(out[10], findings=(replace(out[10].findings[0], fixes=(guidance,)),))
        return out

    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, _ = make_app(allow_changes=True, recorder=recorder, results=results)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        walk(app).engine.run_step = lambda *a: ran.append(a)  # type: ignore[method-assign]
        text = screen_text(app)
        assert "guidance — needs: service name" in text and "$ " not in text.split("Fixes")[-1]
        app.copy_to_clipboard("before")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == "before"
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)  # no confirmation dialog for guidance
        notes = [n.message for n in app._notifications]
        assert sum("nothing to copy or apply: guidance — needs: service name" in n for n in notes) == 2
        assert walk(app).busy is None and ran == []
    recorder.close()
    kinds = [k for k, _ in store.sessions["s1"]["events"]]
    assert "fix_copied" not in kinds and "fix_applied" not in kinds


def test_the_confirmation_dialog_refuses_guidance() -> None:
    with pytest.raises(ValueError):
        FixConfirmDialog(Fix.guidance(("rule",), risk="medium"), "en")
