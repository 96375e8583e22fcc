"""pcapng: one named interface per capture point, nanosecond times, a probe comment on each frame.

The point of pcapng over classic pcap is the path: one probe packet seen on br0,
vnet0 and the guest's eth0 must arrive in Wireshark as three frames on three
*named* interfaces, in hop order. These tests read the files back twice: with the
project's own strict reader and with scapy's (what an operator's tools see).
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor import cli
from vnetdoctor.probes.pcap import PcapError
from vnetdoctor.probes.pcapng import Interface, PcapngWriter, read_pcapng, side_namer, write_rows
from vnetdoctor.store import SessionStore


def _path_rows():
    """One echo request seen on the host bridge, the tap, then the guest's NIC, 40 µs apart."""
    ping = F.frames()[2]
    hops = [(F.HOST, "br0"), (F.HOST, "vnet0"), (F.GUEST, "eth0")]
    return [
        dataclasses.replace(ping, vantage=v, iface=i, time=F.T0 + 0.000040 * n)
        for n, (v, i) in enumerate(hops)
    ]


def _write(rows):
    buf = io.BytesIO()
    count = write_rows(buf, rows, side_namer({F.HOST: "host", F.GUEST: "guest"}))
    return count, buf.getvalue()


def test_each_hop_is_a_named_interface_in_hop_order():
    count, data = _write(_path_rows())
    frames = read_pcapng(data)
    assert count == 3 == len(frames)
    assert [f.interface.name for f in frames] == ["host:br0", "host:vnet0", "guest:eth0"]
    assert [f.interface.description for f in frames] == [F.HOST, F.HOST, F.GUEST]
    times = [f.time_ns for f in frames]
    assert times == sorted(times) and times[1] - times[0] == pytest.approx(40_000, abs=1_000)
    assert all(f.comment == "vnetdoctor probe icmp:6699:1" for f in frames)
    assert all(f.data.hex() == F.frames()[2].data_hex for f in frames)


def test_an_interface_is_declared_once_however_many_frames_use_it():
    rows = _path_rows() * 3
    _count, data = _write(rows)
    assert data.count(b"host:br0") == 1 and data.count(b"guest:eth0") == 1
    assert len(read_pcapng(data)) == 9


def test_unknown_vantage_keeps_its_own_name_and_background_has_no_comment():
    row = dataclasses.replace(F.frames()[3], vantage="netns:elsewhere", iface="eth9")
    _count, data = _write([row])
    (frame,) = read_pcapng(data)
    assert frame.interface.name == "netns:elsewhere:eth9" and frame.comment == ""


def test_scapy_reads_interface_names_and_comments():
    scapy_all = pytest.importorskip("scapy.all")
    _count, data = _write(_path_rows())
    packets = scapy_all.PcapNgReader(io.BytesIO(data)).read_all()
    assert [p.sniffed_on for p in packets] == ["host:br0", "host:vnet0", "guest:eth0"]
    assert all(p[scapy_all.ICMP].type == 8 for p in packets)
    assert [bytes(c) for c in packets[0].comments] == [b"vnetdoctor probe icmp:6699:1"]
    assert abs(float(packets[2].time) - (F.T0 + 0.000080)) < 1e-6


def test_orig_len_never_below_captured_and_odd_lengths_pad():
    buf = io.BytesIO()
    w = PcapngWriter(buf)
    w.write(Interface("host:x"), 1, b"abc", 0)
    (frame,) = read_pcapng(buf.getvalue())
    assert frame.data == b"abc" and frame.orig_len == 3 and len(buf.getvalue()) % 4 == 0


def test_reader_refuses_what_is_not_pcapng():
    with pytest.raises(PcapError, match="not a pcapng"):
        read_pcapng(b"\xd4\xc3\xb2\xa1" + b"\0" * 40)
    _count, data = _write(_path_rows())
    with pytest.raises(PcapError, match="damaged|truncated"):
        read_pcapng(data[:-6])


# -- export ------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = F.record(st, fixed=False)
    return path, sid


def test_export_pcapng_names_the_host_side(db, capsys, tmp_path):
    path, sid = db
    out = tmp_path / "frames.pcapng"
    code = cli.main(["export", sid, "--format", "pcapng", "--db", str(path), "-o", str(out)])
    assert code == 0 and capsys.readouterr().err == ""
    frames = read_pcapng(out.read_bytes())
    assert len(frames) == len(F.frames())
    assert {f.interface.name for f in frames} == {"host:vnet0"}
    assert [f.comment for f in frames][2] == "vnetdoctor probe icmp:6699:1"
    assert [f.data.hex() for f in frames] == [r.data_hex for r in F.frames()]


def test_export_pcapng_redacted_renames_interfaces_and_leaks_nothing(db, capsys, tmp_path):
    path, sid = db
    out = tmp_path / "r.pcapng"
    assert cli.main(["export", sid, "--format", "pcapng", "--redact", "--db", str(path), "-o", str(out)]) == 0
    data = out.read_bytes()
    frames = read_pcapng(data)
    assert len(frames) == len(F.frames())
    for original in (b"vndt-host", b"vnet0", F.HOST_IP.encode()):
        assert original not in data
    assert all(f.interface.name.startswith("host:") for f in frames)


def test_export_pcapng_never_to_a_terminal_but_to_a_pipe(db, capsys, monkeypatch):
    path, sid = db
    res = subprocess.run(
        [sys.executable, "-m", "vnetdoctor", "export", sid, "--format", "pcapng", "--db", str(path)],
        capture_output=True, timeout=60, check=False,
    )
    assert res.returncode == 0, res.stderr
    assert len(read_pcapng(res.stdout)) == len(F.frames())
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code = cli.main(["export", sid, "--format", "pcapng", "--db", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "use -o FILE or a pipe" in err and len(err.strip().splitlines()) == 1
