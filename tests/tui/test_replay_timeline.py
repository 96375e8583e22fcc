"""A replay you can steer: the timeline of a recorded session with a fix applied and a healthy re-run.

The session is recorded through the real store (``support.replay``) and replayed
through the App exactly as ``vnetdoctor replay`` builds it. The walk, the Packets
and the Tables screens must show the session as it stood at the selected moment,
asking the replay session (its observer) for their data, never the final record.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.tui.support.replay import record_fixed_session, replay_app
from tests.tui.support.waiting import screen_text, settle, showing, wait_until
from vnetdoctor.knowledge.model import FAIL, PASS
from vnetdoctor.session.timeline import FIX_APPLIED, FIX_OFFERED, RERUN, STEP, build_timeline
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.replay_walk import ReplayWalkScreen
from vnetdoctor.tui.screens.tables import TablesScreen
from vnetdoctor.tui.widgets.flowchart import PENDING, FlowchartSidebar
from vnetdoctor.tui.widgets.packet_list import PacketList
from vnetdoctor.tui.widgets.timeline import TimelineBar


@pytest.fixture
def fixed(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, sid = record_fixed_session(tmp_path / "sessions.db")
    yield store, sid
    store.close()


# --- the timeline, headless ---------------------------------------------------------------------


def test_the_timeline_lists_steps_fixes_and_reruns_in_recorded_order(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    timeline = build_timeline(store.load(sid))
    kinds = [(m.kind, m.step) for m in timeline.moments]
    assert kinds[0] == (STEP, "symptom.ping")
    applied = kinds.index((FIX_APPLIED, "network.firewall"))
    # The fix was offered by the firewall step, applied after the first walk, then its step re-ran.
    assert kinds.index((FIX_OFFERED, "network.firewall")) < applied
    assert kinds[applied + 1:] == [(RERUN, "network.firewall"), (RERUN, "symptom.ping")]
    assert timeline.moments[applied].ok is True
    assert timeline.runs() == 2


def test_a_frame_holds_only_what_had_happened_by_then(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    timeline = build_timeline(store.load(sid))
    applied = next(i for i, m in enumerate(timeline.moments) if m.kind == FIX_APPLIED)
    start = timeline.at(0)
    assert start.results == {} and start.observations == () and not start.complete
    before_fix = timeline.at(applied + 1)  # the fix applied, its step not re-run yet
    assert before_fix.results["network.firewall"].status == FAIL
    assert before_fix.diagnosis.causes[0].cause == "firewall.guest_blocks"
    assert before_fix.diagnosis.reachable is False
    end = timeline.at(len(timeline))
    assert end.at_end and end.results["network.firewall"].status == PASS
    assert end.diagnosis.reachable is True and end.diagnosis.causes == ()


def test_half_way_through_a_re_run_the_verdict_is_the_last_whole_runs(fixed) -> None:  # type: ignore[no-untyped-def]
    """The audit saw "✓ reachable" beside "1 cause found" mid-re-run: results of two runs mixed."""
    store, sid = fixed
    timeline = build_timeline(store.load(sid))
    applied = next(i for i, m in enumerate(timeline.moments) if m.kind == FIX_APPLIED)
    before = timeline.at(applied + 1).diagnosis
    half_way = timeline.at(applied + 2)  # the firewall step re-ran, the symptom step not yet
    assert half_way.results["network.firewall"].status == PASS
    assert half_way.diagnosis == before and before.reachable is False
    end = timeline.at(len(timeline))
    assert end.diagnosis.reachable is True and not end.diagnosis.causes


def test_an_undo_is_a_moment_that_names_the_fix_it_took_back(fixed) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.knowledge.text import Translator
    from vnetdoctor.session.timeline import FIX_UNDONE
    from vnetdoctor.tui.widgets.timeline import describe
    from tests.tui.support.engine import FIREWALL_FIX

    store, sid = fixed
    undo = {"command": "ip netns exec vnd-guest nft add rule inet filter input icmp type echo-request drop",
            "undoes": FIREWALL_FIX.command, "step": "network.firewall", "returncode": 0, "output": ""}
    store.record_event(sid, "fix_undone", undo)
    timeline = build_timeline(store.load(sid))
    last = timeline.moments[-1]
    assert last.kind == FIX_UNDONE and last.ok is True
    text = describe(last, Translator("en"), lambda s: s).plain
    assert text == f"fix undone, exit 0: {FIREWALL_FIX.command}"


def test_a_record_without_step_times_keeps_every_moment(fixed) -> None:  # type: ignore[no-untyped-def]
    """An exported JSON record has no step times: steps first, then events, none lost."""
    from dataclasses import replace

    store, sid = fixed
    recorded = replace(store.load(sid), step_times=())
    timeline = build_timeline(recorded)
    assert [m.kind for m in timeline.moments][-1] == FIX_APPLIED
    assert len(timeline) == len(build_timeline(store.load(sid)))


def test_replay_shows_its_verdict_before_reading_the_frames_back(fixed) -> None:  # type: ignore[no-untyped-def]
    """The steps holding frames are fed after the verdict, with every frame; never without them."""
    from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished
    from vnetdoctor.probes.rows import PacketRow
    from vnetdoctor.session.replay import TimelineReplay

    store, sid = fixed
    recorded = store.load(sid, with_packets=False)
    assert recorded.frames_left_out  # the symptom step's two runs
    events: list[object] = []
    replay = TimelineReplay(recorded, on_event=events.append, with_frames=store.with_frames)
    replay.run()
    verdict_at = next(i for i, e in enumerate(events) if isinstance(e, DiagnosisReady))
    after = [e.result for e in events[verdict_at:] if isinstance(e, StepFinished)]
    assert [r.step for r in after] == ["symptom.ping"]
    assert all(r.step != "symptom.ping" for e in events[:verdict_at] if isinstance(e, StepFinished)
               for r in [e.result])
    frames = [r for o in after[0].observations for r in o.rows if isinstance(r, PacketRow)]
    assert len(frames) == 18  # the re-run's capture, every frame back
    assert sum(isinstance(r, PacketRow) for o in replay.observations() for r in o.rows) == 18
    assert sum(len([r for o in run for r in o.rows if isinstance(r, PacketRow)])
               for run in replay.capture_runs()) == 30


def test_the_strip_fits_the_width_and_uses_ascii_marks_on_the_linux_console(fixed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.knowledge.text import Translator
    from vnetdoctor.tui.glyphs import ENV

    store, sid = fixed
    moments = build_timeline(store.load(sid)).moments * 8  # a long session: the strip is windowed
    bar = TimelineBar(moments, Translator("en"), lambda s: s)
    bar.position = len(moments) // 2
    text = bar.strip_text(78).plain
    assert len(text) <= 78 and text.startswith("paused ") and text.rstrip().endswith(">") and "<" in text
    monkeypatch.setenv(ENV, "1")
    assert bar.strip_text(78).plain.isascii()


# --- steering the walk ------------------------------------------------------------------------


def _walk(app) -> ReplayWalkScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, ReplayWalkScreen)
    return screen


async def test_replay_opens_paused_at_the_end_and_steps_through_time(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        walk = _walk(app)
        total = len(walk.timeline)
        bar = walk.query_one(TimelineBar)
        assert walk.position == total and not bar.playing
        assert walk.results["network.firewall"].status == PASS  # the healthy re-run
        assert "re-run 1, Ping both ways" in screen_text(app)

        await pilot.press("g")  # the start: nothing had run
        await settle(pilot)
        sidebar = walk.query_one(FlowchartSidebar)
        assert walk.position == 0 and walk.results == {}
        assert sidebar._status.get("symptom.ping", PENDING) == PENDING
        assert "start of the session" in screen_text(app)
        # Nothing has run: no verdict yet, neither "Inconclusive" in the pane nor "!" on its line.
        headline = str(walk.query_one("#verdict-headline").render())
        assert "Inconclusive" not in headline and "No verdict yet" in headline, headline
        assert sidebar._verdict_mark == PENDING

        await pilot.press("right", "l")  # two moments: the symptom step, the libvirt step
        await settle(pilot)
        assert walk.position == 2 and set(walk.results) == {"symptom.ping", "platform.libvirt"}
        assert walk.results["symptom.ping"].status == FAIL
        await pilot.press("h")
        await settle(pilot)
        assert walk.position == 1 and set(walk.results) == {"symptom.ping"}

        await pilot.press("G", "left")  # the moment before the symptom step's re-run
        await settle(pilot)
        assert walk.position == total - 1
        assert walk.results["network.firewall"].status == PASS
        assert walk.results["symptom.ping"].status == FAIL
        applied = next(i for i, m in enumerate(walk.timeline.moments) if m.kind == FIX_APPLIED)
        await pilot.press(*["left"] * (total - 1 - (applied + 1)))
        await settle(pilot)
        assert walk.position == applied + 1
        text = screen_text(app)
        assert "fix applied, exit 0: ip netns exec vnd-guest nft delete rule" in text
        assert walk.results["network.firewall"].status == FAIL
        assert walk.diagnosis is not None and walk.diagnosis.causes[0].cause == "firewall.guest_blocks"

        await pilot.press("end")
        await settle(pilot)
        assert walk.position == total and walk.diagnosis.reachable is True


async def test_space_plays_from_the_start_and_pauses(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        walk = _walk(app)
        walk.play_interval = 0.1
        await pilot.press("space")  # at the end: plays again from the start
        assert walk.query_one(TimelineBar).playing
        await wait_until(pilot, lambda: walk.position >= 3, what="the replay to play on")
        await pilot.press("space")
        paused_at = walk.position
        await pilot.pause(0.1)
        assert walk.position == paused_at and not walk.query_one(TimelineBar).playing
        await pilot.press("space")
        await wait_until(pilot, lambda: walk.position == len(walk.timeline), what="the end")
        await wait_until(pilot, lambda: not walk.query_one(TimelineBar).playing, what="the player to stop")


async def test_the_replay_runs_nothing_when_n_reaches_a_step_not_run_yet(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        walk = _walk(app)
        await pilot.press("g", "right")
        await settle(pilot)
        walk.goto("symptom.ping")
        await pilot.press("n", "n")
        await settle(pilot)
        assert set(walk.results) == {"symptom.ping"} and walk.position == 1


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_replays_footer_fits(fixed, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        shown = [k for k in app.screen.query("FooterKey") if k.display and k.region.width]
        assert [k.key_display for k in shown if k.region.right > size[0]] == []  # every key whole
        assert {"space", "←", "→"} <= {k.key_display for k in shown}
        assert "g/G start/end" in screen_text(app)  # the jump keys, on the timeline's line


async def test_while_the_frames_are_read_back_nothing_claims_a_capture_saw_nothing(fixed) -> None:  # type: ignore[no-untyped-def]
    """The verdict shows at once; the steps holding frames, and the Packets screen, wait for them."""
    import threading

    from tests.tui.support.engine import fake_knowledge
    from vnetdoctor.session.replay import replay_factory
    from vnetdoctor.tui.launch import build_app
    from vnetdoctor.tui.state import SessionState

    store, sid = fixed
    recorded = store.load(sid, with_packets=False)
    gate = threading.Event()

    def slow_frames(record):  # type: ignore[no-untyped-def]
        gate.wait(10)
        return store.with_frames(record)

    state = SessionState(request=recorded.request, replay=True, session_id=sid, store=store)
    app = build_app(state, replay_factory(recorded, slow_frames), knowledge=fake_knowledge())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayWalkScreen) and app.screen.complete)
        walk = app.screen
        assert walk.diagnosis is not None and walk.diagnosis.reachable is True  # the verdict, at once
        assert "symptom.ping" not in walk.results  # its capture is not shown empty: not shown yet
        await pilot.press("p")
        await wait_until(pilot, lambda: showing(app, PacketsScreen))
        await pilot.pause(0.1)
        assert "reading the recorded packets" in screen_text(app)
        assert app.screen.query_one(PacketList).row_count == 0
        gate.set()
        await wait_until(pilot, lambda: app.screen.mode == "recorded", what="the recorded packets")
        assert app.screen.query_one(PacketList).row_count == 30
        await pilot.press("escape")
        await settle(pilot)
        assert walk.results["symptom.ping"].status == PASS


# --- packets and tables at the selected moment -------------------------------------------------


async def test_packets_show_the_selected_moment_and_let_you_pick_the_run(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: showing(app, PacketsScreen) and app.screen.mode == "recorded")
        screen = app.screen
        plist = screen.query_one(PacketList)
        assert plist.row_count == 30 and screen.run_label() == "all 2 runs (r)"
        await pilot.press("r")
        assert plist.row_count == 12 and screen.run_label() == "first run (r)"
        assert all("4242" in r.summary or "ARP" in r.summary for r in plist.packets)
        await pilot.press("r")
        assert plist.row_count == 18 and screen.run_label() == "re-run 1/1 (r)"
        await pilot.press("r")
        assert plist.row_count == 30
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("g", "right")  # only the first walk's symptom step had run
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: showing(app, PacketsScreen) and app.screen.mode == "recorded")
        screen = app.screen
        assert screen.query_one(PacketList).row_count == 12 and screen.runs == []
        await pilot.press("r")  # one run: nothing to pick
        assert screen.query_one(PacketList).row_count == 12


async def test_tables_show_what_had_been_observed_at_the_selected_moment(fixed) -> None:  # type: ignore[no-untyped-def]
    store, sid = fixed
    app = replay_app(store, sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await wait_until(pilot, lambda: showing(app, TablesScreen) and app.screen.view.loaded)
        assert app.screen.table.row_count == 5  # links of both sides, recorded
        await pilot.press("escape")
        await pilot.press("g", "right")  # the symptom step only: no links were observed yet
        await settle(pilot)
        await pilot.press("t")
        await wait_until(pilot, lambda: showing(app, TablesScreen) and app.screen.view.loaded)
        assert app.screen.table.row_count == 0
        # Recorded later in the session: "not yet", never "not recorded".
        assert "not observed yet at this point of the replay" in screen_text(app)
        assert "not recorded" not in screen_text(app)


# --- the observer path: no screen picks its data by the mode ------------------------------------

SCREENS = Path(__file__).resolve().parents[2] / "tui" / "screens"
# Where a screen may read ``state.replay``: to allow or refuse an action (run, apply, go live),
# and to label the mode in a title. Never to choose where its data comes from.
GATES = {"check_action", "_title_left", "__init__"}


def test_no_screen_reads_the_mode_to_find_its_data() -> None:
    offenders = []
    for path in sorted(SCREENS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(func):
                reads_mode = isinstance(node, ast.Attribute) and node.attr == "replay" and \
                    isinstance(node.value, ast.Attribute) and node.value.attr == "state"
                digs = isinstance(node, ast.Name) and node.id == "engine_observations" or \
                    isinstance(node, ast.Attribute) and node.attr == "results" and \
                    isinstance(node.value, ast.Attribute) and node.value.attr == "engine"
                if digs or (reads_mode and not (func.name in GATES or func.name.startswith("action_"))):
                    offenders.append(f"{path.name}:{node.lineno} in {func.name}")
    assert offenders == []


def test_init_reads_the_mode_only_to_gate_going_live() -> None:
    """``__init__`` may read it once, for ``_can_go_live`` (an action), nothing else."""
    lines = [line.strip() for path in SCREENS.glob("*.py") for line in path.read_text().splitlines()
             if "state.replay" in line and "def " not in line]
    data = [line for line in lines if "=" in line and "_can_go_live" not in line and "if " not in line
            and "return" not in line]
    assert data == []
