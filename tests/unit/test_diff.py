"""``vnetdoctor diff``: before/after a fix, compactly."""

from __future__ import annotations

import pytest
from tests.unit.support import store_fixtures as F
from vnetdoctor.probes.rows import FirewallRow, LinkRow, SysctlRow

from vnetdoctor import cli
from vnetdoctor.sessiondiff import diff_rows, diff_sessions
from vnetdoctor.store import SessionStore


@pytest.fixture
def pair(tmp_path, monkeypatch):
    """A session with a guest firewall drop and vnet0 down, then one after both were fixed."""
    clock = [1_790_000_000.0]

    def fake_time():
        clock[0] += 30.0
        return clock[0]

    monkeypatch.setattr("vnetdoctor.store.recording.time.time", fake_time)
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        before = F.record(st, fixed=False, link_down=True)
        after = F.record(st, fixed=True)
        loaded = st.load(before), st.load(after)
    monkeypatch.undo()
    return path, before, after, loaded


def test_before_and_after_a_fix(pair):
    _, before, after, (a, b) = pair
    d = diff_sessions(a, b)
    assert (d.a, d.b) == (before, after)
    assert d.reachable == (False, True) and d.finished == (True, True)
    assert (
        d.causes_gone == ("firewall.guest_blocks",) and d.causes_new == () and d.causes_kept == ()
    )
    assert {(s.step, s.before, s.after) for s in d.steps} == {
        ("link.host", "fail", "pass"),
        ("ping.capture", "warn", "pass"),
        ("firewall.guest", "fail", "pass"),
    }
    by_probe = {o.probe: o for o in d.observations}
    assert set(by_probe) == {"links", "firewall.rules", "neighbours", "capture"}
    fw = by_probe["firewall.rules"]
    assert fw.removed == (
        f"nftables inet filter input: ip saddr {F.HOST_IP} icmp type echo-request drop",
    )
    assert fw.added == () and fw.changed == ()  # counters of the surviving rule are ignored
    (link,) = by_probe["links"].changed
    assert link.label == "link vnet0"
    assert {f[0]: f[1:] for f in link.fields} == {
        "operstate": ("DOWN", "UP"),
        "admin_up": (False, True),
        "carrier": (False, True),
    }  # rx_packets 3 → 7 is not a change worth reading
    (neigh,) = by_probe["neighbours"].changed
    assert {f[0]: f[1:] for f in neigh.fields} == {
        "lladdr": ("", F.GUEST_MAC),
        "state": ("FAILED", "REACHABLE"),
    }
    assert by_probe["capture"].packets == (5, 3)
    assert not d.empty and d.notes == ()


def test_diff_command_output(pair, capsys):
    path, before, after, _ = pair
    code = cli.main(["diff", before, after, "--db", str(path), "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"A  {before}") and lines[0].endswith("firewall.guest_blocks")
    assert lines[1].startswith(f"B  {after}") and lines[1].endswith("reachable")
    assert "Reachable:   no → yes" in lines
    assert "Causes gone: firewall.guest_blocks" in lines
    assert "Still there: none" in lines
    assert any(l.startswith("  ✗ → ✓  physical  link.host") for l in lines)
    assert any(
        l.startswith("  ✗ → ✓  network   firewall.guest") and l.endswith("nothing drops ICMP echo")
        for l in lines
    )
    assert "  links @ netns:vndt-host" in lines
    assert "    ~ link vnet0: operstate DOWN → UP, admin_up no → yes, carrier no → yes" in lines
    assert (
        f"    - nftables inet filter input: ip saddr {F.HOST_IP} icmp type echo-request drop"
        in lines
    )
    assert "    captured frames: 5 → 3" in lines
    assert max(len(l) for l in lines) <= 100
    # By reference, in Chinese.
    code = cli.main(["diff", "last~1", "last", "--db", str(path), "--lang", "zh"])
    out, _ = capsys.readouterr()
    assert (
        code == 0
        and "已消除的原因： firewall.guest_blocks" in out
        and "是否可达：     否 → 是" in out
    )


def test_diff_json(pair, capsys):
    """--json: one document with every before/after as {"a", "b"}, nothing else on stdout."""
    import json

    path, before, after, _ = pair
    code = cli.main(["diff", before, after, "--db", str(path), "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert doc["schema"] == "vnetdoctor.diff/1" and (doc["a"], doc["b"]) == (before, after)
    assert doc["changed"] is True and doc["reachable"] == {"a": False, "b": True}
    assert doc["causes"] == {"gone": ["firewall.guest_blocks"], "new": [], "kept": []}
    assert {"id": "link.host", "a": "fail", "b": "pass"} in [
        {"id": s["id"], **s["status"]} for s in doc["steps"]
    ]
    links = next(o for o in doc["observations"] if o["probe"] == "links")
    assert links["vantage"] == "netns:vndt-host"
    (row,) = links["rows_changed"]
    assert row["row"] == "link vnet0"
    assert {"field": "operstate", "a": "DOWN", "b": "UP"} in row["fields"]
    capture = next(o for o in doc["observations"] if o["probe"] == "capture")
    assert capture["packets"] == {"a": 5, "b": 3}


def test_same_session_twice_and_identical_sessions(pair, tmp_path, capsys):
    path, before, _, (a, _) = pair
    code = cli.main(["diff", before, "last~1", "--db", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and "are the same session" in err and len(err.strip().splitlines()) == 1
    with SessionStore(path) as st:
        again = st.load(F.record(st, fixed=False, link_down=True))
    d = diff_sessions(a, again)
    assert d.empty
    from vnetdoctor.sessiondiff_text import render_diff

    assert render_diff(d, a, again).rstrip().endswith("No differences.")


def test_interrupted_and_different_paths_are_noted(tmp_path):
    with SessionStore(tmp_path / "s.db") as st:
        a = st.load(F.record(st, fixed=False))
        sid = st.start_session(
            F.Request(
                target="198.18.0.12", host=F.parse_vantage(F.HOST), guest=F.parse_vantage(F.GUEST)
            ),
            source="tui",
        )
        st.record_step(sid, F.steps(False)[3])
        st._conn.execute("UPDATE sessions SET proc_start='1' WHERE id=?", (sid,))
        st._conn.commit()
        b = st.load(sid)
    d = diff_sessions(a, b)
    assert d.causes_kept == ("firewall.guest_blocks",)  # what B's steps found so far
    assert d.finished == (True, False)
    assert any("different paths" in n for n in d.notes)
    assert any("session B never finished (interrupted)" in n for n in d.notes)
    assert {(s.step, s.after) for s in d.steps if s.after is None} >= {("link.host", None)}


def test_row_matching_by_identity():
    a = [
        LinkRow(5, "eth0", "", "UP", True, True, 1500, "52:54:00:00:00:01", rx_packets=1),
        SysctlRow("net.ipv4.ip_forward", "0"),
        FirewallRow("iptables-nft", "ip", "filter", "FORWARD", hook="forward", policy="drop"),
        FirewallRow(
            "iptables-nft",
            "ip",
            "filter",
            "FORWARD",
            rule="-j DOCKER-USER",
            verdict="jump DOCKER-USER",
            position=0,
        ),
        FirewallRow(
            "iptables-nft",
            "ip",
            "filter",
            "FORWARD",
            rule="-j DOCKER-USER",
            verdict="jump DOCKER-USER",
            position=1,
        ),
    ]
    b = [
        LinkRow(
            9, "eth0", "", "UP", True, True, 9000, "52:54:00:00:00:01", rx_packets=99
        ),  # re-created: new ifindex
        SysctlRow("net.ipv4.ip_forward", "1"),
        FirewallRow("iptables-nft", "ip", "filter", "FORWARD", hook="forward", policy="accept"),
        FirewallRow(
            "iptables-nft",
            "ip",
            "filter",
            "FORWARD",
            rule="-j DOCKER-USER",
            verdict="jump DOCKER-USER",
            position=3,
        ),
    ]
    removed, added, changed, packets = diff_rows(a, b)
    assert removed == ("iptables-nft ip filter FORWARD: -j DOCKER-USER",)  # the duplicate went away
    assert added == () and packets is None
    text = {c.label: c.fields for c in changed}
    assert text["link eth0"] == (("mtu", 1500, 9000),)
    assert text["net.ipv4.ip_forward"] == (("value", "0", "1"),)
    assert text["iptables-nft ip filter FORWARD: policy accept"] == (("policy", "drop", "accept"),)


def test_diff_names_the_fix_that_turned_it_healthy(tmp_path):
    """Issue 13.3: a broken session, then one fixed in the TUI (a fix, its re-run healthy)."""
    from vnetdoctor.commands.diff import diff_document

    with SessionStore(tmp_path / "s.db") as st:
        broken = st.load(F.record(st, fixed=False))
        fixed_id = F.record_fixed(st)
        fixed = st.load(fixed_id)
        undone_id = F.record_fixed(st)
        st.record_event(undone_id, "fix_undone", {
            "command": "ip netns exec vndt-guest nft delete rule inet filter input handle 7",
            "undo": "ip netns exec vndt-guest nft add rule inet filter input drop", "returncode": 0,
        })
        undone = st.load(undone_id)
    command = "ip netns exec vndt-guest nft delete rule inet filter input handle 7"
    d = diff_sessions(broken, fixed)
    assert d.fixed_by == ((fixed_id, command),)
    assert diff_document(d)["fixed_by"] == [{"session": fixed_id, "command": command}]
    from vnetdoctor.sessiondiff_text import render_diff

    line = next(l for l in render_diff(d, broken, fixed).splitlines() if l.startswith("Fixed by:"))
    assert line.endswith(f" {command} (applied in B)")
    assert diff_sessions(broken, undone).fixed_by == ()  # undone: not what made it healthy
    assert diff_sessions(fixed, broken).fixed_by == ()  # B is not healthy


def _ping_session(st, *runs: tuple[int, bool], ladder: bool = False) -> str:
    """A session whose symptom pings ran with a payload size of their own, as every run draws one;
    ``runs``: (size, replies) of each run of the step (a fix applied in between re-runs it)."""
    from vnetdoctor.knowledge.model import StepResult
    from vnetdoctor.probes.base import Observation
    from vnetdoctor.probes.rows_active import EchoRow

    sid = st.start_session(F.request(), source="diagnose", scenario=None)
    for size, replies in runs:
        rows = tuple(EchoRow(dst=F.GUEST_IP, seq=n, ident=4000 + size, size=size, df=False,
                             rtt_ms=0.3 if replies else None) for n in (1, 2))
        echo = Observation("icmp.echo", "netns:vndt-host", rows=rows,
                           params=(("dst", F.GUEST_IP), ("size", str(size)), ("timeout", "1.0")))
        mtu = [Observation("icmp.echo", "netns:vndt-host",
                           params=(("dst", F.GUEST_IP), ("size", str(s)), ("df", "1")))
               for s in ((1472, 1400) if ladder and replies else ())]  # the MTU ladder runs once ping works
        st.record_step(sid, StepResult("symptom.ping", "symptom", "Ping", "pass" if replies else "fail", "", 1.0,
                                       (echo, *mtu)))
    return sid


def test_a_rerun_with_its_own_ping_size_is_compared_not_listed_as_only_in_a_and_only_in_b(tmp_path):
    """The symptom pings' random size made every diff say "icmp.echo only in A" and "only in B"
    and never compare the one thing a fix changes: no reply, then replies. B here is a session
    whose fix re-ran the step: its last run counts, not both."""
    with SessionStore(tmp_path / "s.db") as st:
        a = st.load(_ping_session(st, (384, False)))
        b = st.load(_ping_session(st, (79, False), (211, True), ladder=True))
    d = diff_sessions(a, b)
    (echo,) = [o for o in d.observations if o.probe == "icmp.echo"]
    assert dict(echo.params_a)["size"] == "384" and dict(echo.params)["size"] == "211"
    assert echo.removed == echo.added == ()  # paired without the size the run chose
    assert {c.label: c.fields for c in echo.changed} == {
        f"ping {F.GUEST_IP} size 211 seq {n}": (("rtt_ms", "—", "0.3 ms"),) for n in (1, 2)}
    # The MTU ladder only B ran: two runs, no partner; listed with their parameters, as A ran icmp.echo too.
    assert d.only_a == ()
    assert d.only_b == tuple(f"icmp.echo @ netns:vndt-host (df=1 dst={F.GUEST_IP} size={s})" for s in (1472, 1400))


def test_kernel_deliveries_are_not_differences_but_a_drop_that_went_away_is():
    """Which socket took which copy of a working ping varies run to run: two healthy sessions
    differed by a dozen "consumed" lines. A drop that turned into a delivery still shows."""
    from vnetdoctor.probes.kernel_drops_parse import CONSUMED, DROP, KernelDropRow

    def row(verdict: str, function: str, probe: str = "forward", length: int = 107) -> KernelDropRow:
        return KernelDropRow(probe=probe, kind="request", length=length, verdict=verdict,
                             reason="NETFILTER_DROP" if verdict == DROP else "", location=f"{function}+0x1/0x2",
                             function=function, devices=("guest eth0",), last_dev="eth0", side="guest", at_ms=0.1,
                             direction="in")

    healthy_a = [row(CONSUMED, "icmp_rcv"), row(CONSUMED, "raw_recvmsg", "reverse")]
    healthy_b = [row(CONSUMED, "packet_recvmsg", "reverse", 339), row(CONSUMED, "icmp_rcv", length=211)]
    assert diff_rows(healthy_a, healthy_b, frozenset({"length"})) == ((), (), (), None)
    removed, added, changed, _ = diff_rows([row(DROP, "nft_do_chain")], healthy_b, frozenset({"length"}))
    assert removed == ("kernel drop NETFILTER_DROP: forward request length 107 in nft_do_chain after guest eth0 (in)",)
    assert added == () and changed == ()


def test_a_pipe_gets_every_changed_row_a_terminal_the_first_ones(pair, capsys, monkeypatch):
    """`vnetdoctor diff A B > ticket.txt` cut a probe's rows at 12 with "… and N more": a
    file must keep everything (the JSON did, the text did not)."""
    import dataclasses

    from vnetdoctor.commands import diff as command
    from vnetdoctor.sessiondiff import ObservationDiff
    from vnetdoctor.sessiondiff_text import MAX_ROW_LINES

    path, before, after, _ = pair
    many = tuple(f"fdb 52:54:00:00:00:{n:02x} on br0/vnet0" for n in range(MAX_ROW_LINES + 8))
    real = command.diff_sessions

    def bigger(a, b):
        d = real(a, b)
        return dataclasses.replace(d, observations=(*d.observations, ObservationDiff("bridge.fdb", "local", (), added=many)))

    monkeypatch.setattr(command, "diff_sessions", bigger)
    assert cli.main(["diff", before, after, "--db", str(path), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert all(f"+ {row}" in out for row in many) and "more" not in out
    monkeypatch.setattr(command, "output_width", lambda *a, **k: 80)  # a terminal
    assert cli.main(["diff", before, after, "--db", str(path), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"+ {many[-1]}" not in out and "… and 9 more" in out


def test_step_notes_are_said_in_the_diffs_language_whatever_the_session_was_recorded_in(tmp_path, capsys):
    from vnetdoctor.knowledge.model import StepResult
    from vnetdoctor.knowledge.text import tr

    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        ids = []
        for status in ("fail", "pass"):
            sid = st.start_session(F.request(), source="diagnose", scenario=None)
            note = tr("sessions.fixed", "en", cause="firewall.guest_blocks") if status == "pass" else "plain words"
            st.record_step(sid, StepResult("symptom.ping", "symptom", "Ping", status, note, 1.0, ()))
            ids.append(sid)
    assert cli.main(["diff", *ids, "--db", str(path), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "状态变化的步骤（1 个）：" in out and "已修复：firewall.guest_blocks" in out and "fixed:" not in out


def test_a_kernel_watch_per_step_and_the_pmtu_probes_own_sizes_pair_by_step(tmp_path):
    """Since the MTU step runs its own kernel watch, a session has two kernel.drops with random
    lengths: unique per step, not per session. Two healthy runs listed both as only in A and B."""
    from vnetdoctor.knowledge.model import StepResult
    from vnetdoctor.probes.base import Observation

    def session(st, sizes: tuple[int, int, int, int]) -> str:
        sid = st.start_session(F.request(), source="diagnose", scenario=None)
        watch = lambda a, b: Observation("kernel.drops", "netns:vndt-host", params=(("lengths", f"{a},{b}"),))
        pmtu = Observation("icmp.pmtu", "netns:vndt-host", params=(
            ("dst", F.GUEST_IP), ("idents", ",".join(str(7 * s) for s in sizes)),
            ("sizes", "56,1000," + ",".join(map(str, sizes[2:])))))
        st.record_step(sid, StepResult("symptom.ping", "symptom", "Ping", "pass", "", 1.0, (watch(*sizes[:2]),)))
        st.record_step(sid, StepResult("datalink.mtu", "datalink", "MTU", "pass", "", 1.0,
                                       (watch(*sizes[2:]), pmtu)))
        return sid

    with SessionStore(tmp_path / "s.db") as st:
        a, b = st.load(session(st, (395, 194, 1379, 1497))), st.load(session(st, (299, 150, 1401, 1494)))
    d = diff_sessions(a, b)
    assert d.only_a == d.only_b == () and d.observations == ()
