"""The lab's catalogue and plumbing, without root: every cause the catalogue says the lab
reproduces has a scenario, scenarios are well-formed and safe by construction, and
the small wire formats (DNS answers, ARP, BPDU) are right."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import struct

import pytest
from vnetdoctor.knowledge import catalog

from vnetdoctor import cli
from vnetdoctor.lab import SCENARIOS, TOPOLOGIES, LabError, kernel, ops, servers, state
from vnetdoctor.lab.checks import DNS, KINDS, LAB_PORT, TCP, Check, CheckResult
from vnetdoctor.lab.topology import ROLES

ALLOWED = [ipaddress.ip_network(n) for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in net for net in ALLOWED)


def test_every_cause_the_catalogue_labs_has_a_scenario() -> None:
    covered = {s.cause for s in SCENARIOS.values() if s.cause}
    for cause in catalog.all_causes():
        if cause.lab in ("yes", "sim", "no"):
            assert cause.id in covered, f"{cause.id} (lab={cause.lab}) has no lab scenario"
        else:  # libvirt.*: the libvirt test driver covers them, not the netns lab
            assert cause.id not in covered, f"{cause.id} is lab={cause.lab}, yet has a scenario"
    known = set(catalog.cause_ids())
    assert covered <= known, f"scenarios name unknown causes: {sorted(covered - known)}"


def test_scenarios_are_well_formed() -> None:
    prefix = "vnd-"
    for name, s in SCENARIOS.items():
        assert s.name == name and s.topology in TOPOLOGIES
        assert s.describe("en").strip() and CJK.search(s.describe("zh")), name
        checks = s.checks(prefix)
        assert checks and all(c.kind in KINDS for c in checks), name
        assert all(c.ns.startswith(prefix) and c.ns[len(prefix):] in ROLES for c in checks), name
        if s.cause is None:
            assert s.inject is None and all(c.expect_ok for c in checks), name
        else:
            # a fault scenario must break something, and be able to undo it
            assert s.inject and s.revert and any(not c.expect_ok for c in checks), name
        for c in checks + s.healthy_checks(prefix):
            if c.kind != DNS:
                assert _allowed(c.target), (name, c)
            assert (c.port == LAB_PORT) == (c.kind == TCP)
        assert all(c.expect_ok for c in s.healthy_checks(prefix)), name


def test_diagnose_args_parse_and_point_inside_the_lab() -> None:
    parser = cli.build_parser()
    for name, s in SCENARIOS.items():
        args = parser.parse_args(["diagnose", *s.diagnose_args("vnd-t1x0-")])
        assert args.host == "netns:vnd-t1x0-host" and args.guest == "netns:vnd-t1x0-guest", name
        assert _allowed(args.target), name
        assert args.from_side in ("host", "guest")
        if s.cause in ("tcp.port_closed", "tcp.port_filtered") or name == "healthy":
            assert args.port == str(LAB_PORT)  # a field as typed: the session's parser reads it
            assert s.request("vnd-t1x0-").port == LAB_PORT
        # The scenario's Request and its command line are the same request.
        request = s.request("vnd-t1x0-")
        assert (str(request.host), str(request.guest), request.target, request.from_side) == (
            args.host, args.guest, args.target, args.from_side), name
        assert request.argv() == s.diagnose_args("vnd-t1x0-")


def test_topology_addresses_stay_in_the_allowed_ranges() -> None:
    from vnetdoctor.lab import topology_build

    for t in TOPOLOGIES.values():
        for address in (t.host_ip, t.guest_ip, t.guest_gw, *( [t.peer_ip] if t.peer_ip else [])):
            assert _allowed(address), (t.name, address)
        assert ipaddress.ip_address(t.guest_ip) in ipaddress.ip_network(t.subnet)
    for pair in (topology_build.NAT_UPLINK, topology_build.ROUTED_UPLINK, topology_build.ASYM_UPLINK):
        assert _allowed(pair[0]) and _allowed(pair[1])


@pytest.mark.parametrize("line", [
    "link add x type veth peer name y",            # would land in the root namespace
    "link add x netns vnd-host type veth peer name y",  # the peer would
    "link set eth0 down",
    "addr add 198.18.0.1/24 dev eth0",
    "route add default via 198.18.0.254",
])
def test_root_batch_refuses_anything_that_touches_the_root_namespace(line: str, monkeypatch) -> None:
    ran = []
    monkeypatch.setattr(ops, "_batch", lambda argv, lines: ran.append(lines))
    with pytest.raises(LabError, match="refusing"):
        ops.ip_root_batch(["netns add vnd-host", line])
    assert ran == []


def test_sysctl_refuses_keys_outside_net(monkeypatch) -> None:
    with pytest.raises(LabError):
        ops.sysctl("vnd-host", [("kernel.panic", 1)])


@pytest.mark.parametrize("prefix", ["", "-x", "../x", "a/b", "x" * 33, "a b"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(LabError):
        state.check_prefix(prefix)


def _query(name: str, qtype: int = 1, qid: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)


def test_dns_responder_answers() -> None:
    records = {"host.lab.test": "198.18.0.1"}
    reply = servers.dns_answer(_query("Host.Lab.Test"), records, "lab.test")
    assert reply is not None
    qid, flags, qd, an = struct.unpack("!HHHH", reply[:8])
    assert (qid, flags & 0x800F, qd, an) == (0x1234, 0x8000, 1, 1)
    assert reply[-4:] == socket.inet_aton("198.18.0.1")
    nx = servers.dns_answer(_query("nope.lab.test"), records, "lab.test")
    assert nx is not None and struct.unpack("!H", nx[2:4])[0] & 0xF == 3
    root = servers.dns_answer(_query("", qtype=2), records, "lab.test")  # "is a resolver there?"
    assert root is not None and struct.unpack("!HH", root[2:6]) == (0x8580, 1)
    assert servers.dns_answer(b"\x00\x01", records, "lab.test") is None
    assert servers.dns_answer(reply, records, "lab.test") is None  # a response is not a query


def test_arp_and_bpdu_frames() -> None:
    frame = ops.arp_frame("52:54:00:de:ad:0b", "198.18.0.11", "198.18.0.1")
    assert len(frame) == 60 and frame[:6] == b"\xff" * 6 and frame[12:14] == b"\x08\x06"
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 1)
    assert frame[28:32] == socket.inet_aton("198.18.0.11") and frame[38:42] == socket.inet_aton("198.18.0.1")
    bpdu = ops.stp_config_bpdu("52:54:00:12:00:0b")
    assert bpdu[:6] == bytes.fromhex("0180c2000000")
    length = struct.unpack("!H", bpdu[12:14])[0]
    assert length == 38 and bpdu[14:17] == b"\x42\x42\x03" and bpdu[17:21] == b"\x00\x00\x00\x00"


def test_check_results_judge_expectations() -> None:
    fail = Check("tcp", "vnd-host", "198.18.0.11", False, LAB_PORT, "refused")
    assert CheckResult(fail, False, "refused", (), "", 0.0).as_expected
    assert not CheckResult(fail, False, "timeout", (), "", 0.0).as_expected
    assert not CheckResult(fail, True, "ok", (), "", 0.0).as_expected
    assert fail.describe() == "tcp connect 198.18.0.11:8080 from vnd-host fails (refused)"


def test_cli_list_works_without_root(monkeypatch, capsys) -> None:
    monkeypatch.setattr(kernel, "is_privileged", lambda: False)
    assert cli.main(["lab", "list"]) == 0
    out = capsys.readouterr().out
    for name, s in SCENARIOS.items():
        assert re.search(rf"^{re.escape(name)}\s+{re.escape(s.cause or '-')}\s+{s.topology}\s", out, re.MULTILINE), name
    assert "needs root" in out
    assert cli.main(["lab", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in doc["scenarios"]] == list(SCENARIOS)
    assert all(not s["available"] and "root" in s["reason"] for s in doc["scenarios"])


@pytest.mark.parametrize("argv", [["lab", "up", "healthy"], ["lab", "down"]])
def test_cli_up_down_without_root_one_line_exit_2(argv, monkeypatch, capsys) -> None:
    monkeypatch.setattr(kernel, "is_privileged", lambda: False)
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "needs root" in captured.err


@pytest.mark.parametrize("argv, message", [
    (["lab", "up", "no-such-scenario"], "unknown scenario"),
    (["lab", "up", "healthy", "--prefix", "../etc"], "bad lab prefix"),
    (["lab", "down", "--prefix", "a/b"], "bad lab prefix"),
])
def test_cli_bad_input_one_line_exit_2(argv, message, monkeypatch, capsys) -> None:
    # privileged as far as the command can tell, but the input is refused before anything runs
    monkeypatch.setattr(kernel, "is_privileged", lambda: True)
    monkeypatch.setattr(ops, "_batch", lambda *a: pytest.fail("nothing may run"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
