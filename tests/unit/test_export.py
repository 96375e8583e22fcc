"""``vnetdoctor export``: the Markdown report, the raw JSON record, the pcap of captured frames."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys

import pytest
from tests.unit.support import store_fixtures as F
from vnetdoctor.probes.rows import PacketRow

from vnetdoctor import cli
from vnetdoctor.probes.pcap import PcapError, linktype_of, read_pcap, write_pcap
from vnetdoctor.store import SessionStore


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        before = F.record(st, fixed=False)
        interrupted = F.record(st, fixed=False, finish=False)
        # Mark the unfinished one as written by a process that is gone.
        st._conn.execute(
            "UPDATE sessions SET proc_start='1', started=started+1 WHERE id=?", (interrupted,)
        )
        st._conn.commit()
    return path, before, interrupted


def export(capsys, *argv):
    code = cli.main(["export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- Markdown ---------------------------------------------------------------------------------


def test_markdown_report_has_everything_a_ticket_needs(db, capsys):
    path, sid, _ = db
    code, md, err = export(capsys, sid, "--format", "md", "--db", str(path), "--lang", "en")
    assert code == 0 and err == ""
    assert md.startswith(f"# vnetdoctor report — session {sid}\n")
    # The request.
    for text in (
        "| Target | `198.18.0.11` |",
        "| Host side | `netns:vndt-host` |",
        "| Guest side | `netns:vndt-guest` |",
        "| TCP port | 22 |",
        "| Lab scenario | `guest-firewall` |",
        "| Duration | 1.8 s |",
    ):
        assert text in md
    # The verdict and the cause with evidence, fix, undo and risk.
    assert "## Verdict\n\n**Not working**: 1 cause found." in md
    assert "### 1. `firewall.guest_blocks` — Network layer" in md
    assert (
        "- inet filter input: ip saddr 198.18.0.1 icmp type echo-request drop (4 packets) (`firewall.rules` · `netns:vndt-guest`)"
        in md
    )
    assert "Fix 1 — risk: low, run in `netns:vndt-guest`" in md
    assert "```sh\nip netns exec vndt-guest nft delete rule inet filter input handle 7\n```" in md
    assert (
        "Undo:\n\n```sh\nip netns exec vndt-guest nft add rule inet filter input ip saddr 198.18.0.1"
        in md
    )
    # Steps by layer, in layer order, with marks and durations; pipes escaped in cells.
    assert (
        md.index("### Physical layer")
        < md.index("### Data link layer")
        < md.index("### Network layer")
    )
    assert "| ✓ | Host interfaces up (`link.host`) | vnet0 and br0 are up | 12 ms |" in md
    assert (
        "| ✗ | Guest firewall (`firewall.guest`) | a rule drops ICMP echo — `firewall.guest_blocks` | 9 ms |"
        in md
    )
    assert (
        "| ! | Where do the echo requests go (`ping.capture`) | requests reach vnet0, no reply | 1.5 s |"
        in md
    )
    assert (
        "| ? | Is the switch port LED on? (`switch.led`) | asked the operator — answer: yes | 0 ms |"
        in md
    )
    assert "✓ pass · ✗ fail · ! warning · - skipped · ? question for the operator" in md
    # Operator events and packets.
    assert "**Answer** at step `switch.led`: Is the LED on? — yes" in md
    assert "ICMP 198.18.0.1 > 198.18.0.11 echo-request id=0x1a2b seq=1  [icmp:6699:1]" in md
    assert "5 frames; the first 5 below" in md
    # A table row never breaks: every table line has the same number of unescaped pipes.
    for line in md.splitlines():
        if line.startswith(("| ✓", "| ✗")):
            assert line.replace("\\|", "").count("|") == 5


def test_markdown_says_in_words_which_fix_ran_where_and_how_to_undo_it(tmp_path, capsys):
    """What a colleague reads the next morning: no argv lists, flags or Python reprs."""
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = F.record_fixed(st)
        st.record_event(sid, "fix_applied", {
            "command": "ip link set vnet0 up", "argv": ["ip", "link", "set", "vnet0", "up"],
            "undo": "ip link set vnet0 down", "undo_argv": ["ip", "link", "set", "vnet0", "down"],
            "where": "netns:vndt-host", "runnable": True, "missing": [], "step": "physical.links",
            "returncode": 2, "output": "\nRTNETLINK answers: Operation not permitted\nmore",
            "then": [{"command": "virsh net-start default"}],
        })
    code, md, _ = export(capsys, sid, "--format", "md", "--db", str(path), "--lang", "en")
    assert code == 0
    assert ("**Fix applied** at step `physical.links`, in netns:vndt-host: `ip link set vnet0 up`, then "
            "`virsh net-start default` → exit status 2 (it printed: RTNETLINK answers: Operation not "
            "permitted). Undo: `ip link set vnet0 down`") in md
    assert "argv" not in md and "runnable" not in md and "[]" not in md
    code, zh, _ = export(capsys, sid, "--format", "md", "--db", str(path), "--lang", "zh")
    assert "**已应用修复**（步骤 `physical.links`，在 netns:vndt-host 中）" in zh and "退出码 2" in zh


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "**Reachable after a fix**: the walk found `firewall.guest_blocks`; the fix applied"),
    ("zh", "**修复后可达**：排查发现了 `firewall.guest_blocks`；应用的修复（见“操作记录”）"),
])
def test_the_verdict_of_a_session_healed_by_a_fix_names_the_cause_it_cleared(tmp_path, capsys, lang, said):
    """The list says "fixed: CAUSE"; the report said only "Reachable", and the cause appeared
    nowhere but in stale "not needed: CAUSE already explains the failure" step notes."""
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        fixed, healthy = F.record_fixed(st), F.record(st, fixed=True)
    code, md, _ = export(capsys, fixed, "--format", "md", "--db", str(path), "--lang", lang)
    assert code == 0 and said in md
    code, md, _ = export(capsys, healthy, "--format", "md", "--db", str(path), "--lang", lang)
    assert "firewall.guest_blocks" not in md.split("##")[2]  # no fix, nothing cleared: plain reachable


def test_markdown_skipped_step_and_fix_note_with_pipe(tmp_path, capsys):
    from vnetdoctor.knowledge.model import StepResult

    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.start_session(F.request(), source="diagnose")
        st.record_step(
            sid,
            StepResult(
                "libvirt.net", "platform", "libvirt network", "skip", "needs libvirt | not here"
            ),
        )
        for step in F.steps(False):  # as the session's record sink writes them
            st.record_step(sid, step)
        st.finish_session(sid, F.diagnosis(False))
    code, md, _ = export(capsys, sid, "--db", str(path))
    assert code == 0
    assert "| - | libvirt network (`libvirt.net`) | needs libvirt \\| not here | 0 ms |" in md
    assert md.index("Virtualisation platform") < md.index("Physical layer")
    assert "Removes only the rule that drops ping | nothing else." in md  # prose, not a table cell


def test_markdown_in_chinese_and_interrupted(db, capsys):
    path, sid, interrupted = db
    code, md, _ = export(capsys, sid, "--db", str(path), "--lang", "zh")
    assert code == 0
    assert "## 诊断结论" in md and "### 网络层" in md and "风险：低" in md and "撤销：" in md
    code, md, _ = export(capsys, "last", "--db", str(path))
    assert code == 0 and interrupted in md
    assert "**Interrupted**: the session ended before a verdict; 7 steps were recorded." in md
    assert "Found so far: `firewall.guest_blocks`." in md
    assert "never finished (interrupted)" in md


# -- JSON ---------------------------------------------------------------------------------------


def test_json_is_the_diagnose_document_plus_observations_and_events(db, capsys, tmp_path):
    path, sid, _ = db
    out_file = tmp_path / "out.json"
    code, out, err = export(capsys, sid, "--format", "json", "--db", str(path), "-o", str(out_file))
    assert code == 0 and out == "" and err == ""
    doc = json.loads(out_file.read_text())
    assert doc["schema"] == "vnetdoctor.diagnosis/1" and doc["session_id"] == sid
    assert doc["target"] == "198.18.0.11" and doc["reachable"] is False
    assert doc["host"] == F.HOST and doc["guest"] == F.GUEST
    assert [c["id"] for c in doc["causes"]] == ["firewall.guest_blocks"]
    assert doc["causes"][0]["fixes"][0]["undo"].startswith("ip netns exec vndt-guest nft add rule")
    assert [s["id"] for s in doc["steps"]] == [s.step for s in F.steps(False)]
    capture = doc["steps"][2]["observations"][0]
    assert [r["_type"] for r in capture["rows"]] == ["PacketRow"] * 5
    assert capture["rows"][0]["data_hex"] == F.frames()[0].data_hex
    fw = doc["steps"][3]["observations"][0]["rows"]
    assert fw[2]["rule"].endswith("icmp type echo-request drop") and fw[2]["_type"] == "FirewallRow"
    assert doc["steps"][0]["duration_ms"] == 12.5
    assert [e["kind"] for e in doc["events"]] == ["answer", "note"]
    assert doc["record"]["state"] == "finished" and doc["record"]["scenario"] == "guest-firewall"
    assert doc["record"]["request"]["port"] == 22
    # The steps of the raw record are a superset of what diagnose --json prints.
    expected = json.loads(json.dumps(F.diagnosis(False).to_json(sid)))
    assert {k for k in expected if k != "steps"} <= set(doc)
    for mine, theirs in zip(doc["steps"], expected["steps"]):
        assert {k: v for k, v in mine.items() if k != "duration_ms"} == {
            k: v for k, v in theirs.items() if k != "duration_ms"
        }


# -- pcap ---------------------------------------------------------------------------------------


def test_pcap_to_file_reads_back(db, capsys, tmp_path):
    path, sid, _ = db
    out_file = tmp_path / "frames.pcap"
    code, out, err = export(capsys, sid, "--format", "pcap", "--db", str(path), "-o", str(out_file))
    assert code == 0 and out == "" and err == ""
    data = out_file.read_bytes()
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, zone, sigfigs, linktype) == (0xA1B2C3D4, 2, 4, 0, 0, 1)
    assert snaplen >= 65535
    lt, frames = read_pcap(data)
    expected = F.frames()
    assert lt == 1 and len(frames) == len(expected)
    for got, row in zip(frames, expected):
        assert got.data.hex() == row.data_hex
        assert got.orig_len == row.length
        assert abs(got.time - row.time) < 1e-6


def test_pcap_readable_by_scapy(db, capsys, tmp_path):
    scapy_all = pytest.importorskip("scapy.all")
    path, sid, _ = db
    out_file = tmp_path / "frames.pcap"
    assert export(capsys, sid, "--format", "pcap", "--db", str(path), "-o", str(out_file))[0] == 0
    packets = scapy_all.rdpcap(str(out_file))
    assert len(packets) == 5
    assert packets[0].haslayer(scapy_all.ARP) and packets[0][scapy_all.ARP].pdst == F.GUEST_IP
    assert packets[2][scapy_all.IP].dst == F.GUEST_IP and packets[2][scapy_all.ICMP].type == 8
    assert packets[4].haslayer(scapy_all.IPv6)
    assert abs(float(packets[2].time) - F.frames()[2].time) < 1e-6


def test_pcap_to_a_pipe_but_never_to_a_terminal(db, capsys, monkeypatch):
    path, sid, _ = db
    res = subprocess.run(
        [sys.executable, "-m", "vnetdoctor", "export", sid, "--format", "pcap", "--db", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert read_pcap(res.stdout)[1][0].data.hex() == F.frames()[0].data_hex
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = export(capsys, sid, "--format", "pcap", "--db", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "use -o FILE or a pipe" in err


def test_pcap_without_frames_is_an_error(tmp_path, capsys):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.start_session(F.request(), source="diagnose")
        st.record_step(sid, F.steps(False)[0])
    code, _, err = export(
        capsys, sid, "--format", "pcap", "--db", str(path), "-o", str(tmp_path / "x.pcap")
    )
    assert code == 2 and "no captured packets" in err
    assert not (tmp_path / "x.pcap").exists()


def test_unknown_session_and_missing_database(db, capsys, tmp_path):
    path, _, _ = db
    code, _, err = export(capsys, "nope", "--db", str(path))
    assert code == 2 and "no session 'nope'" in err
    code, _, err = export(capsys, "last", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no session database" in err
    assert not (tmp_path / "none.db").exists()


def test_write_pcap_round_trip_and_linktypes():
    rows = [
        PacketRow(1.5, "local", "eth0", 60, "x", "00" * 42, 1),
        PacketRow(2.000001, "local", "eth0", 42, "y", "11" * 42, 1),
    ]
    assert linktype_of(rows) == 1
    buf = io.BytesIO()
    assert write_pcap(buf, [(r.time, bytes.fromhex(r.data_hex), r.length) for r in rows], 1) == 2
    lt, frames = read_pcap(buf.getvalue())
    assert (
        lt == 1
        and [f.orig_len for f in frames] == [60, 42]
        and frames[1].time == pytest.approx(2.000001)
    )
    mixed = rows + [PacketRow(3.0, "local", "any", 40, "z", "22" * 40, 113)]
    with pytest.raises(PcapError, match="several link types"):
        linktype_of(mixed)
    with pytest.raises(PcapError):
        read_pcap(b"\x00" * 30)


# -- --redact refuses what it cannot make clean -------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_redact_refuses_an_unrenamable_spelling_and_writes_nothing(db, capsys, tmp_path, fmt):
    """A MAC with a one-digit byte is not renamed, but the leak check sees it: refused, no file."""
    path, before, _ = db
    with SessionStore(path) as st:
        st.record_event(before, "note", {"text": "guest NIC 52:54:0:ab:cd:ef per the operator"})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / f"report.{fmt}"
    code, out, err = export(capsys, before, "--format", fmt, "--redact", "--db", str(path),
                            "-o", str(target))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "refusing to export" in err
    assert "52:54:0:ab:cd:ef" in err  # names what survived, so it can be reported
    assert list(out_dir.iterdir()) == []  # no file, no temporary left behind


def test_redact_refuses_a_pcap_whose_payload_names_the_host(db, capsys, tmp_path, monkeypatch):
    """A host name inside a frame cannot be renamed (lengths would change): refused."""
    path, before, _ = db
    # The fixture's echo payload spells "vnetdoctor-probe": pretend that is this machine's name.
    monkeypatch.setattr("vnetdoctor.exports.machine_hostnames", lambda: ["vnetdoctor-probe"])
    target = tmp_path / "x.pcap"
    code, _, err = export(capsys, before, "--format", "pcap", "--redact", "--db", str(path),
                          "-o", str(target))
    assert code == 2 and "refusing to export" in err and "pcap" in err
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_an_undone_fix_reads_in_the_report_as_the_session_recorded_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The walk records fix_undone with the fix's own record (Session.undo_fix): the report's
    sentence names the undo that ran and the fix it took back, and no 'Was:' line is claimed."""
    from tests.unit.support import store_fixtures as F
    from vnetdoctor.knowledge.model import Fix
    from vnetdoctor.report import render_markdown
    from vnetdoctor.store import SessionStore

    fix = Fix.of(("ip", "netns", "exec", "vndt-guest", "nft", "delete", "rule", "inet", "filter", "input",
                  "handle", "7"),
                 ("ip", "netns", "exec", "vndt-guest", "nft", "add", "rule", "inet", "filter", "input", "drop"),
                 risk="low", where="netns:vndt-guest")
    with SessionStore(tmp_path / "s.db") as st:
        sid = F.record_fixed(st)
        st.record_event(sid, "fix_undone", {**fix.to_dict(), "step": "firewall", "returncode": 0, "output": ""})
        text = render_markdown(st.load(sid))
    assert (f"**Fix undone** at step `firewall`, in netns:vndt-guest: `{fix.undo}` → exit status 0 "
            f"(the fix was `{fix.command}`)") in text
    assert "Reachable after a fix" not in text  # the fix that made it healthy was taken back


# -- -o FILE never silently replaces a file ------------------------------------------------------


def test_an_existing_output_is_refused_in_one_line_unless_force(db, capsys, tmp_path):
    """Found off the demo path: ``export -o report.md`` replaced yesterday's report without a
    word, while the Sessions screen refuses. Refused here too (exit 2, the file untouched);
    ``--force`` replaces it, and a device (``-o /dev/null``) is written into as before."""
    path, sid, _ = db
    target = tmp_path / "report.md"
    target.write_text("yesterday's report\n")
    code, out, err = export(capsys, sid, "--db", str(path), "-o", str(target), "--lang", "en")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"vnetdoctor export: {target} exists: not overwritten (--force replaces it)"]
    assert target.read_text() == "yesterday's report\n"
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "nowhere.md")  # a dangling link exists too: replacing it is a choice
    assert export(capsys, sid, "--db", str(path), "-o", str(link))[0] == 2 and link.is_symlink()
    code, _, err = export(capsys, sid, "--db", str(path), "-o", str(target), "--lang", "zh")
    assert code == 2 and "已存在：未覆盖（加 --force 才会替换它）" in err
    code, out, err = export(capsys, sid, "--db", str(path), "-o", str(target), "--force")
    assert code == 0 and out == "" and err == ""
    assert target.read_text().startswith("#") and "yesterday" not in target.read_text()
    assert export(capsys, sid, "--db", str(path), "-o", "/dev/null")[0] == 0


def test_force_is_in_the_help_in_both_languages(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    assert "--force               replace FILE if it exists" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["export", "--help", "--lang", "zh"])
    assert "--force               FILE 已存在时替换它" in capsys.readouterr().out


def test_the_report_says_when_its_duration_is_a_re_runs(tmp_path, capsys):
    """A session whose last run was a fix's re-run says so next to the time (knowledge/took.py):
    "611 ms" alone read as the whole diagnosis's time."""
    from dataclasses import replace

    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = F.record(st, fixed=True, finish=False)
        d = F.diagnosis(fixed=True)
        took = {"run": "rerun", "step": d.steps[-1].step, "n": 5}
        st.finish_session(sid, replace(d, duration_ms=611.0, extra={**d.extra, "took": took}))
        whole = F.record(st, fixed=True)
    code, md, _ = export(capsys, sid, "--db", str(path), "--lang", "en")
    assert code == 0
    assert f"| Duration | the latest run ({d.steps[-1].title} again, 5 steps) took 611 ms |" in md
    code, md, _ = export(capsys, whole, "--db", str(path), "--lang", "en")
    assert code == 0 and "| Duration | 1.8 s |" in md  # a whole walk (or an older record): the time alone
