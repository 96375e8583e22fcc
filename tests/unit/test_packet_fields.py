"""A captured frame's fields are decoded from its bytes; its summary line is display text only.

The capture fills ``PacketRow``'s direction, protocol, addresses, ports, kind and
info from the frame (``probes.frame_summary``); rules and views decide by those.
A record made before the fields existed gets them on read from its summary, in
one place (``vnetdoctor.convert``). A syntax-tree test keeps it that way: code
elsewhere that matches ``.summary`` (``in``, a regex, ``startswith``, splitting)
fails it.
"""

from __future__ import annotations

import ast
import json
import struct
from pathlib import Path

import pytest
from tests.unit.support import store_fixtures as F
from tests.unit.support.source_tree import production_files

from vnetdoctor.convert import packet_fields_from_summary, step_from_json
from vnetdoctor.knowledge.model import Diagnosis, StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.capture import PACKET_OUTGOING, Capture, CapturePoint
from vnetdoctor.probes.frame_summary import decode_frame, packet_row
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.vantage import parse_vantage
from vnetdoctor.probes.vocabulary import Direction, PacketKind
from vnetdoctor.store import SessionStore

A, B = "198.18.0.1", "198.18.0.11"
A_MAC, B_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def _tcp(sport: int, dport: int, flags: int) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0)


def _vlan(frame: bytes, vid: int = 10) -> bytes:
    return frame[:12] + struct.pack("!HH", 0x8100, vid) + frame[12:]


ECHO = F.ether(B_MAC, A_MAC, 0x0800, F.ipv4(A, B, 1, F.icmp_echo(8, 4242, 1)))
REPLY = F.ether(A_MAC, B_MAC, 0x0800, F.ipv4(B, A, 1, F.icmp_echo(0, 4242, 1)))
UNREACHABLE = F.ether(A_MAC, B_MAC, 0x0800, F.ipv4(B, A, 1, F.icmp_frag_needed(B, b"\x45" + bytes(27))))
WHO_HAS = F.ether("ff:ff:ff:ff:ff:ff", A_MAC, 0x0806, F.arp(1, A_MAC, A, "00:00:00:00:00:00", B))
IS_AT = F.ether(A_MAC, B_MAC, 0x0806, F.arp(2, B_MAC, B, A_MAC, A))
SYN = F.ether(B_MAC, A_MAC, 0x0800, F.ipv4(A, B, 6, _tcp(40000, 22, 0x02)))
UDP = F.ether(B_MAC, A_MAC, 0x0800, F.ipv4(A, B, 17, F.udp(A, B, 5353, 53, b"q")))
GRE = F.ether(B_MAC, A_MAC, 0x0800, F.ipv4(A, B, 47, bytes(8)))
IPV6 = F.ether("33:33:00:00:00:01", A_MAC, 0x86DD, bytes(40))

# (frame, proto, src, sport, dst, dport, kind, info, info_more)
DECODED = [
    (ECHO, "ICMP", A, 0, B, 0, PacketKind.ECHO_REQUEST, "echo-request id=4242 seq=1", None),
    (REPLY, "ICMP", B, 0, A, 0, PacketKind.ECHO_REPLY, "echo-reply id=4242 seq=1", None),
    (UNREACHABLE, "ICMP", B, 0, A, 0, PacketKind.OTHER, "type=3 code=4", None),
    (WHO_HAS, "ARP", A, 0, B, 0, PacketKind.WHO_HAS, f"who-has {B}", f" ({A_MAC})"),
    (IS_AT, "ARP", B, 0, "", 0, PacketKind.IS_AT, f"is-at {B_MAC}", ""),
    (SYN, "TCP", A, 40000, B, 22, PacketKind.OTHER, "[S]", ""),
    (UDP, "UDP", A, 5353, B, 53, PacketKind.OTHER, "", ""),
    (GRE, "IP", A, 0, B, 0, PacketKind.OTHER, "proto=47", ""),
    (IPV6, "", "", 0, "", 0, PacketKind.OTHER, f"ethertype 0x86dd {len(IPV6)} bytes", ""),
    (b"\x00" * 10, "", "", 0, "", 0, PacketKind.OTHER, "short frame", ""),
]


@pytest.mark.parametrize("frame,proto,src,sport,dst,dport,kind,info,more", DECODED)
def test_the_capture_decodes_each_frames_fields_from_its_bytes(
    frame: bytes, proto: str, src: str, sport: int, dst: str, dport: int, kind: PacketKind, info: str,
    more: str | None,
) -> None:
    for data in (frame, _vlan(frame)) if len(frame) > 14 else (frame,):
        f = decode_frame(data)
        said = info.replace(f" {len(frame)} bytes", f" {len(data)} bytes")  # a VLAN tag makes it longer
        assert (f.proto, f.src, f.sport, f.dst, f.dport, f.kind, f.info) == (proto, src, sport, dst, dport, kind, said)
        if more is not None:
            assert f.info_more == more
        # The display line is made of the same fields: the list shows nothing the row does not hold.
        assert f.summary.startswith(proto or said) and f.summary.endswith(f.info_more)
        assert all(word in f.summary.split() for word in f.info.split())
    ip_len = struct.unpack("!H", frame[16:18])[0] if frame[12:14] == b"\x08\x00" else 0
    if proto == "ICMP":  # the IP length; an echo's also says when it may not be fragmented
        echo = kind in (PacketKind.ECHO_REQUEST, PacketKind.ECHO_REPLY)
        assert decode_frame(frame).info_more == f" len={ip_len}" + (" DF" if echo and frame[20] & 0x40 else "")


def test_a_captured_frame_keeps_the_direction_the_packet_socket_gave() -> None:
    cap = Capture([])
    point = CapturePoint(parse_vantage("local"), "vnet0")
    cap._keep(point, ECHO, ("vnet0", 0x0800, PACKET_OUTGOING), stamp=5.0)
    cap._keep(point, REPLY, ("vnet0", 0x0800, 0), stamp=5.1)
    out, back = cap.drain()
    assert (out.direction, out.kind, out.src, out.time) == (Direction.OUT, PacketKind.ECHO_REQUEST, A, 5.0)
    assert out.summary.startswith("out ICMP") and out.tag == "icmp:4242:1"
    assert (back.direction, back.kind, back.src, back.dst) == (Direction.IN, PacketKind.ECHO_REPLY, B, A)
    assert back.summary.startswith("in  ICMP")


@pytest.mark.parametrize("frame", [d[0] for d in DECODED])
@pytest.mark.parametrize("direction", list(Direction))
def test_the_converter_reads_from_an_old_summary_what_the_capture_decodes_from_the_bytes(
    frame: bytes, direction: Direction
) -> None:
    """Both readers agree on every shape the capture writes: an old record and a new one show alike."""
    row = packet_row(1.0, "local", "vnet0", frame, direction)
    derived = packet_fields_from_summary(row.summary)
    assert derived == {name: getattr(row, name) for name in derived}


def test_the_stored_columns_are_the_rows_fields_in_its_order() -> None:
    """The loader builds rows positionally from FIELD_COLUMNS: they must be PacketRow's fields after tag."""
    import dataclasses

    from vnetdoctor.convert import FIELD_COLUMNS, FIELD_TYPES

    names = [f.name for f in dataclasses.fields(PacketRow)]
    assert names[names.index("tag") + 1 :] == list(FIELD_COLUMNS)
    # The loader fills a new row's __dict__ instead of calling __init__: nothing may run there.
    assert not hasattr(PacketRow, "__post_init__") and not hasattr(PacketRow, "__slots__")
    from vnetdoctor.convert import packet_row_from_columns

    built = packet_row(1.0, "local", "vnet0", SYN, Direction.OUT)
    columns = (built.time, built.vantage, built.iface, built.length, built.linktype, built.data_hex, built.summary,
               built.tag, *(str(v) if isinstance(v, str) else v for v in (getattr(built, n) for n in FIELD_COLUMNS)))
    loaded = packet_row_from_columns(*columns)  # as SQLite gives them: plain strings
    assert loaded == built and hash(loaded) == hash(built) and list(vars(loaded)) == list(vars(built))
    row = packet_row(1.0, "local", "vnet0", SYN, Direction.OUT)
    assert all(isinstance(getattr(row, name), kind) for name, kind in FIELD_TYPES.items())


def test_old_summaries_split_into_their_columns() -> None:
    """The summary shapes of schema 1 (moved from the packet list's tests: the list no longer parses)."""
    f = packet_fields_from_summary("out ICMP 198.18.0.1 > 198.18.0.11 echo-request id=7 seq=1 len=84 DF")
    assert (f["direction"], f["proto"], f["src"], f["dst"]) == ("out", "ICMP", "198.18.0.1", "198.18.0.11")
    assert f["info"] + f["info_more"] == "echo-request id=7 seq=1 len=84 DF" and f["kind"] == "echo-request"
    f = packet_fields_from_summary("in  ARP who-has 198.18.0.11 tell 198.18.0.1 (02:00:00:00:00:01)")
    assert (f["direction"], f["proto"], f["src"], f["dst"]) == ("in", "ARP", "198.18.0.1", "198.18.0.11")
    assert f["kind"] == "who-has"
    f = packet_fields_from_summary("in  ARP 198.18.0.11 is-at 02:00:00:00:00:02")
    assert (f["proto"], f["src"], f["info"], f["kind"]) == ("ARP", "198.18.0.11", "is-at 02:00:00:00:00:02", "is-at")
    f = packet_fields_from_summary("in  TCP 198.18.0.1:40000 > 198.18.0.11:22 [S]")
    assert (f["proto"], f["src"], f["sport"], f["dst"], f["dport"], f["info"]) == (
        "TCP", "198.18.0.1", 40000, "198.18.0.11", 22, "[S]")
    f = packet_fields_from_summary("ethertype 0x86dd 90 bytes")
    assert (f["direction"], f["proto"], f["src"], f["info"]) == ("", "", "", "ethertype 0x86dd 90 bytes")


def test_an_old_shape_row_in_a_step_gets_its_fields_on_read_and_a_new_one_is_left_alone() -> None:
    old = {"_type": "PacketRow", "time": 1.0, "vantage": "local", "iface": "br0", "length": 98,
           "summary": f"in  ICMP {B} > {A} echo-reply id=4242 seq=1 len=84", "data_hex": "", "tag": "icmp:4242:1"}
    new = {**old, "time": 2.0, "summary": "anything at all", "direction": "out", "proto": "", "kind": ""}
    step = step_from_json({"id": "s", "layer": "symptom", "title": "t", "status": "pass", "observations": [
        {"probe": "capture.path", "vantage": "local", "rows": [old, new]}]})
    upgraded, kept = step.observations[0].rows
    assert (upgraded.direction, upgraded.proto, upgraded.src, upgraded.kind) == ("in", "ICMP", B, "echo-reply")
    assert upgraded.summary == old["summary"]  # what was recorded stays
    assert (kept.direction, kept.proto, kept.kind, kept.info) == ("out", "", "", "")


def test_a_recorded_frame_keeps_its_fields_through_the_store_and_a_redacted_export(tmp_path: Path) -> None:
    from vnetdoctor.exports import export_json

    rows = (packet_row(1.0, F.HOST, "vnet0", SYN, Direction.OUT), packet_row(1.1, F.HOST, "vnet0", WHO_HAS))
    step = StepResult("symptom.ping", "symptom", "Ping both ways", "fail", "", 1.0,
                      (Observation("capture.path", F.HOST, rows=rows, layer="datalink"),))
    with SessionStore(tmp_path / "s.db") as store:
        sid = store.start_session(F.request(), source="diagnose")
        store.record_step(sid, step)
        store.finish_session(sid, Diagnosis(F.request(), False, duration_ms=1.0))
    with SessionStore(tmp_path / "s.db", readonly=True) as store:
        rec = store.load(sid)
    assert rec.steps[0].observations[0].rows == rows
    doc = json.loads(export_json(rec, redact=True))
    frames = [r for r in doc["steps"][0]["observations"][0]["rows"] if r["_type"] == "PacketRow"]
    assert frames[0]["sport"] == 40000 and frames[0]["proto"] == "TCP" and frames[1]["kind"] == "who-has"
    for frame in frames:  # the decoded addresses are renamed like the summary's
        assert frame["src"] not in (A, B) and frame["src"] in frame["summary"]
        assert A_MAC not in frame["info_more"]


# -- nothing decides by reading the summary line back ------------------------------------------

CONVERTER = "convert.py"
TEXT_TESTS = ("startswith", "endswith", "split", "rsplit", "partition", "rpartition", "find", "index", "count")
REGEX_CALLS = ("match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split")


def _is_summary(node: ast.AST, aliases: frozenset[str] = frozenset()) -> bool:
    """``x.summary`` (or ``x.summary.strip()``/``.lower()``…: still the summary's text), or a name bound to it."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "strip", "lstrip", "rstrip", "lower", "upper", "casefold"):
        node = node.func.value
    if isinstance(node, ast.Name):
        return node.id in aliases
    return isinstance(node, ast.Attribute) and node.attr == "summary"


def _aliases(tree: ast.AST) -> frozenset[str]:
    """Names bound to a summary's text (``body = row.summary``, ``body, text = row.summary, str(tag)``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple)
                         and isinstance(node.value, ast.Tuple) else [(target, node.value)])
                names.update(t.id for t, v in pairs if isinstance(t, ast.Name) and _is_summary(v))
    return frozenset(names)


def summary_matches(tree: ast.AST) -> list[int]:
    """Lines where the summary's text is matched: ``in``, a regex over it, a string test on it."""
    aliases = _aliases(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            operands = [node.left, *node.comparators]
            if any(_is_summary(o, aliases) for o in operands):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in TEXT_TESTS and _is_summary(node.func.value, aliases):
                lines.append(node.lineno)
            elif node.func.attr in REGEX_CALLS and any(_is_summary(a, aliases) for a in node.args):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and "parse" in node.func.id:
            if any(_is_summary(a, aliases) for a in node.args):  # parse_summary(row.summary) and the like
                lines.append(node.lineno)
    return lines


def test_no_code_but_the_converter_matches_a_packet_summary() -> None:
    offenders = [
        f"{path}:{line}"
        for path in production_files()
        if path.name != CONVERTER
        for line in summary_matches(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert offenders == [], "decide by PacketRow's fields, not its summary line:\n" + "\n".join(offenders)


@pytest.mark.parametrize("code", [
    '"echo-reply" in p.summary',
    'p.summary.startswith("in ")',
    'not row.summary.strip().startswith("out")',
    '_IP_FLOW.match(row.summary)',
    're.search("who-has", p.summary)',
    'f"ICMP {ip} >" not in p.summary',
    'p.summary.split()[0]',
    'body, text = row.summary, str(tag)\nok = "echo-reply" in body',
    'text = r.summary\nm = _ARP_ASK.match(text)',
    'f = parse_summary(row.summary)',
])
def test_the_detector_sees_each_way_of_matching_a_summary(code: str) -> None:
    assert len(summary_matches(ast.parse(code))) == 1


def test_the_detector_leaves_showing_a_summary_alone() -> None:
    code = 'label = f"{r.summary}"\ntext = row.summary.strip()\nfinding.summary == other\nx in summary_words'
    assert summary_matches(ast.parse(code)) == []


# -- the rules decide by the fields ------------------------------------------------------------


def test_the_return_path_rule_finds_replies_and_arp_asks_by_their_fields() -> None:
    """``returned_on``: our echo replies, or the target asking for us, arriving on a host NIC."""
    from types import SimpleNamespace

    from vnetdoctor.knowledge.checks_network import returned_on

    host = parse_vantage("local")
    reply = packet_row(1.0, "local", "eth1", REPLY, Direction.IN)  # icmp:4242:1 from B
    asks = packet_row(1.1, "local", "eth2", F.ether("ff:ff:ff:ff:ff:ff", B_MAC, 0x0806,
                                                    F.arp(1, B_MAC, B, "00:00:00:00:00:00", A)), Direction.IN)
    sent_back = packet_row(1.2, "local", "eth3", REPLY, Direction.OUT)  # leaving: not an answer
    other_ping = packet_row(1.3, "local", "eth4", REPLY, Direction.IN)
    trace = SimpleNamespace(packets=(reply, asks, sent_back, other_ping))
    assert returned_on(trace, host, 4242, B) == ["eth1", "eth2", "eth4"]
    assert returned_on(trace, host, 4243, B) == ["eth2"]  # another ping's replies are not ours
    assert returned_on(trace, host, 4243, A) == []  # who-has A tell B: B asks, A does not
    # The same packets described only by their summary line decide nothing: only the fields count.
    bare = SimpleNamespace(packets=tuple(PacketRow(r.time, r.vantage, r.iface, r.length, r.summary, r.data_hex,
                                                   tag=r.tag) for r in trace.packets))
    assert returned_on(bare, host, 4242, B) == []
