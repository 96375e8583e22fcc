"""The TUI's headless parts: form rules, the engine bridge, the recorder, discovery, replay."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from tests.tui.support.engine import PATH, FakeEngine, MemoryStore, QUESTION, REQUEST, scenario_results
from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished, StepStarted
from vnetdoctor.knowledge.replay import ReplayEngine
from vnetdoctor.probes.base import OK, SKIPPED, Observation
from vnetdoctor.probes.rows import AddrRow, LinkRow
from vnetdoctor.probes.rows_libvirt import DomainIfaceRow, DomainRow
from vnetdoctor.tui.bridge import EngineBridge, fallback_answer
from vnetdoctor.session.request import RequestError, parse_request
from vnetdoctor.tui.messages import EngineEventPosted, QuestionAsked
from vnetdoctor.session.recorder import SessionRecorder

# --- the form ---------------------------------------------------------------------------


def test_form_builds_the_request() -> None:
    r = parse_request(target=" 198.18.0.11 ", port="22", host="local", guest="libvirt:web01", lang="zh")
    assert (r.target, r.port, r.from_side, str(r.host), str(r.guest), r.lang) == (
        "198.18.0.11", 22, "host", "local", "libvirt:web01", "zh")
    r = parse_request(target="", guest="libvirt:web01")  # the engine finds the address
    assert r.target is None


def test_from_a_netns_guest_the_address_is_asked_from_a_libvirt_guest_it_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A libvirt network names the host's address on it (discovery.host_address); a namespace does not."""
    import vnetdoctor.session.request as request_module

    monkeypatch.setattr(request_module, "check_vantage", lambda vantage: None)  # as if the namespace existed
    with pytest.raises(RequestError) as err:
        parse_request(target="", from_side="guest", guest="netns:vnd-guest")
    assert (err.value.field, err.value.key) == ("target", "form.need_address_from_guest")
    found = parse_request(target="", from_side="guest", guest="libvirt:x")
    assert found.target is None and found.from_side == "guest"


@pytest.mark.parametrize(
    ("fields", "field", "key"),
    [
        ({"target": "198.18.0.300"}, "target", "form.bad_address"),
        ({"target": "2001:db8::1"}, "target", "form.ipv6"),
        ({"target": "198.18.0.11", "port": "ssh"}, "port", "form.bad_port"),
        ({"target": "198.18.0.11", "port": "0"}, "port", "form.port_range"),
        ({"target": "198.18.0.11", "host": "netns:no-such-ns-d1"}, "host", "form.bad_vantage"),
        ({"target": "198.18.0.11", "host": "libvirt:web01"}, "host", "form.host_libvirt"),
        ({"target": "198.18.0.11", "guest": "bogus"}, "guest", "form.bad_vantage"),
        ({"target": "198.18.0.11", "from_side": "guest"}, "guest", "form.need_guest"),
        ({"target": ""}, "target", "form.need_address"),
        ({"target": "198.18.0.11", "from_side": "sideways"}, "from_side", "form.bad_side"),
    ],
)
def test_form_names_the_field_and_the_problem(fields: dict[str, str], field: str, key: str) -> None:
    with pytest.raises(RequestError) as err:
        parse_request(**{"target": "", **fields})
    assert (err.value.field, err.value.key) == (field, key)


# --- the bridge ----------------------------------------------------------------------------


class Sink:
    """Stands in for the screen: collects posted messages, from any thread."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.posted = threading.Event()

    def post_message(self, message: object) -> bool:
        self.messages.append(message)
        self.posted.set()
        return True


def test_bridge_turns_events_into_messages() -> None:
    sink = Sink()
    bridge = EngineBridge(sink)  # type: ignore[arg-type]
    bridge.on_event(StepStarted("symptom.ping"))
    assert isinstance(sink.messages[0], EngineEventPosted)
    bridge.close()
    bridge.on_event(StepStarted("symptom.ping"))
    assert len(sink.messages) == 1  # nothing after the screen went away


def test_bridge_ask_blocks_until_answered() -> None:
    sink = Sink()
    bridge = EngineBridge(sink)  # type: ignore[arg-type]
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(bridge.ask(QUESTION)))
    thread.start()
    assert sink.posted.wait(5)
    message = sink.messages[0]
    assert isinstance(message, QuestionAsked) and message.box.question == QUESTION
    assert thread.is_alive()  # still waiting for the operator
    message.box.answer("no")
    thread.join(5)
    assert answers == ["no"]


def test_closing_the_bridge_releases_a_waiting_engine() -> None:
    sink = Sink()
    bridge = EngineBridge(sink)  # type: ignore[arg-type]
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(bridge.ask(QUESTION)))
    thread.start()
    assert sink.posted.wait(5)
    bridge.close()
    thread.join(5)
    assert answers == ["unknown"]
    assert bridge.ask(QUESTION) == "unknown"  # and later questions are not asked at all


def test_fallback_answer() -> None:
    assert fallback_answer(QUESTION) == "unknown"
    assert fallback_answer(replace(QUESTION, choices=("bridged", "nat"))) == "nat"


# --- the recorder -------------------------------------------------------------------------------


def test_recorder_writes_in_order_from_its_own_thread() -> None:
    store = MemoryStore()
    seen_threads: set[str] = set()
    original = store.record_step

    def record_step(sid, step):  # type: ignore[no-untyped-def]
        seen_threads.add(threading.current_thread().name)
        original(sid, step)

    store.record_step = record_step  # type: ignore[method-assign]
    recorder = SessionRecorder(store, source="tui")
    started: list[str] = []
    results = scenario_results()
    recorder.step(results[0])  # before start: not this session's
    recorder.start(REQUEST, started.append)
    for r in results:
        recorder.step(r)
    recorder.event("fix_copied", {"command": "true"})
    engine = FakeEngine(REQUEST, results, points=PATH)
    engine.run()
    recorder.finish(engine.diagnosis())
    recorder.close()
    session = store.sessions["s1"]
    assert started == ["s1"] and recorder.session_id == "s1"
    assert [s.step for s in session["steps"]] == [r.step for r in results]
    assert session["events"] == [("fix_copied", {"command": "true"})]
    assert session["diagnosis"].causes[0].cause == "firewall.guest_blocks"
    assert seen_threads == {"vnetdoctor-recorder"}


def test_recorder_keeps_going_after_a_failed_write() -> None:
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    recorder.start(REQUEST)
    recorder.event("x", {"a": 1})
    assert recorder.flush()
    store.sessions.clear()  # the next write fails (KeyError)
    recorder.step(scenario_results()[0])
    assert recorder.flush()  # answered after the failed write: the thread is still there
    recorder.close()
    assert recorder.errors and recorder.errors[0].startswith("step: KeyError")


# --- replay over a real store --------------------------------------------------------------------


def test_replay_engine_plays_back_a_recorded_session(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.store import SessionStore

    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="tui", scenario="firewall.guest_blocks")
    live = FakeEngine(REQUEST, scenario_results(), question=QUESTION, ask=lambda q: "yes", points=PATH,
                      on_event=lambda e: recorder.step(e.result) if isinstance(e, StepFinished) else None)
    recorder.start(REQUEST)
    diagnosis = live.run()
    recorder.finish(diagnosis)
    recorder.close()

    recorded = store.load(store.resolve("last"))
    events: list[object] = []
    replay = ReplayEngine.from_recorded(recorded, on_event=events.append)
    plan = replay.plan()
    assert [p.id for p in plan] == [r.step for r in scenario_results()]
    assert {p.id for p in plan if p.kind == "question"} == {QUESTION.step}  # the answered question
    assert replay.results() == {}
    replayed = replay.run()
    assert [type(e) for e in events[:2]] == [StepStarted, StepFinished]
    assert isinstance(events[-1], DiagnosisReady)
    assert [f.cause for f in replayed.causes] == ["firewall.guest_blocks"]
    assert replayed.reachable is False
    firewall = replay.results()["network.firewall"]
    assert firewall.findings[0].fixes[0].command == scenario_results()[10].findings[0].fixes[0].command
    assert firewall.observations[0].rows == scenario_results()[10].observations[0].rows  # rows come back typed
    assert replay.results()[QUESTION.step].answer == "yes"
    # run_step hands back what was recorded; it never probes.
    assert replay.run_step("datalink.arp") == replay.results()["datalink.arp"]
    with pytest.raises(KeyError):
        replay.run_step("no.such.step")


def test_replay_engine_path_points_come_from_the_verdict() -> None:
    from vnetdoctor.knowledge.model import Diagnosis
    from vnetdoctor.knowledge.path import PathPoint

    d = Diagnosis(REQUEST, False, extra={"path": (PathPoint("host", "br0"), PathPoint("host", "vnet0"), PathPoint("guest", "eth0"))})
    engine = ReplayEngine(REQUEST, scenario_results(), d)
    assert [(str(v), i) for v, i in engine.path_points()] == [
        ("netns:vnd-host", "br0"), ("netns:vnd-host", "vnet0"), ("netns:vnd-guest", "eth0")]


# --- discovery -------------------------------------------------------------------------------------


def test_discovery_lists_libvirt_and_vmware_and_says_what_it_could_not_read(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.session import targets

    answers = {
        "libvirt.domains": Observation("libvirt.domains", "local", OK, (
            DomainRow("web01", "running", agent_channel=True), DomainRow("db02", "shutoff"))),
        "libvirt.interfaces": Observation("libvirt.interfaces", "local", OK, (
            DomainIfaceRow("web01", "52:54:00:12:34:56", "network", "default"),
            DomainIfaceRow("db02", "52:54:00:ab:cd:ef", "network", "default"))),
        "libvirt.leases": Observation("libvirt.leases", "local", SKIPPED, reason="needs a real libvirtd"),
        "link.list": Observation("link.list", "local", OK, (
            LinkRow(1, "lo", "loopback", "UNKNOWN", True, True, 65536, ""),
            LinkRow(5, "vmnet8", "", "UP", True, True, 1500, "00:50:56:c0:00:08"),
            LinkRow(6, "vboxnet0", "", "DOWN", False, False, 1500, "0a:00:27:00:00:00"))),
        "addr.list": Observation("addr.list", "local", OK, (AddrRow("vmnet8", "inet", "198.51.100.1", 24, "global"),)),
    }
    monkeypatch.setattr(targets, "_probe", lambda probe_id, **kw: answers[probe_id])
    monkeypatch.setattr(targets, "NETNS_DIR", str(tmp_path))
    (tmp_path / "blue").write_text("")
    found, notes = targets.discover()
    by_name = {t.name: t for t in found}
    assert by_name["web01"].guest == "libvirt:web01" and by_name["web01"].macs == ("52:54:00:12:34:56",)
    assert by_name["db02"].note == "start.note_no_agent"
    assert by_name["vmnet8"].kind == "vmware" and by_name["vmnet8"].addresses == ("198.51.100.1/24",)
    assert by_name["vboxnet0"].kind == "virtualbox" and by_name["vboxnet0"].state == "DOWN"
    assert by_name["blue"].guest == "netns:blue"
    assert "lo" not in by_name
    assert any("needs a real libvirtd" in n for n in notes)


def test_lab_instances_become_complete_targets(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.session import targets

    from vnetdoctor.lab import state as lab_state

    monkeypatch.setattr(lab_state, "STATE_DIR", str(tmp_path))
    lab_state.save(lab_state.LabState(prefix="vndtest-", scenario="firewall.guest_blocks",
                                      namespaces=["vndtest-host", "vndtest-guest"]))
    found, owned, notes = targets.lab_targets()
    assert not notes and owned == {"vndtest-host", "vndtest-guest"}
    (lab,) = found
    assert (lab.host, lab.guest, lab.from_side) == ("netns:vndtest-host", "netns:vndtest-guest", "host")
    assert lab.target and lab.note == "firewall.guest_blocks"


def test_a_healthy_lab_is_a_target_with_a_note(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Regression: a healthy baseline has no cause; the Start screen died on its None note."""
    from vnetdoctor.session import targets
    from vnetdoctor.knowledge.text import tr

    from vnetdoctor.lab import state as lab_state

    monkeypatch.setattr(lab_state, "STATE_DIR", str(tmp_path))
    lab_state.save(lab_state.LabState(prefix="vndtest-", scenario="healthy",
                                      namespaces=["vndtest-host", "vndtest-guest"]))
    (lab,), _owned, _notes = targets.lab_targets()
    assert lab.note == "start.note_healthy_lab"
    assert "healthy" in tr(lab.note, "en") and "健康" in tr(lab.note, "zh")


# --- the keymap file -------------------------------------------------------------------------


def test_keymap_file_remaps_by_binding_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.probes.errors import UsageError
    from vnetdoctor.tui.launch import load_keymap

    assert load_keymap(tmp_path / "missing.toml") == {}
    # Someone else's HOME (setpriv --reuid=nobody keeps HOME=/root): no keymap, not exit 2.
    if os.geteuid() == 0 and shutil.which("setpriv"):
        hidden = tmp_path / "home"
        (hidden / ".config").mkdir(parents=True)
        hidden.chmod(0o700)
        code = ("from vnetdoctor.tui.launch import load_keymap; from pathlib import Path; "
                f"assert load_keymap(Path({str(hidden / '.config/vnetdoctor/keymap.toml')!r})) == {{}}")
        done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                               sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
        assert done.returncode == 0, done.stderr
    good = tmp_path / "keymap.toml"
    good.write_text('[keys]\n"walk.next" = "j"\n"walk.back" = "k,up"\n')
    assert load_keymap(good) == {"walk.next": "j", "walk.back": "k,up"}
    bad = tmp_path / "bad.toml"
    bad.write_text('"walk.next" = 3\n')
    with pytest.raises(UsageError, match="must be a string"):
        load_keymap(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("walk.next = \n")
    with pytest.raises(UsageError, match="cannot read keymap"):
        load_keymap(broken)
