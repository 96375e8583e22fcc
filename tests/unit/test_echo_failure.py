"""An echo row says what kind of error it got (``EchoRow.failure``), so no rule reads its words.

The raw ping sets it from the ICMP type and code of the error that quotes our
request, the guest's ping from its tool's fixed words, and a record made before
the field existed gets it from its words once, when it is read (vnetdoctor.convert).
"""

from __future__ import annotations

import struct

import pytest

from vnetdoctor.convert import step_from_json, upgrade_echo_rows
from vnetdoctor.probes import icmp
from vnetdoctor.probes.base import row_to_dict
from vnetdoctor.probes.guest_ping import failure_of, parse_ping
from vnetdoctor.probes.row_types import row_from_json
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vocabulary import EchoFailure

IDENT = 0x1234


def _ip(proto: int = 1) -> bytes:
    """A 20-byte IPv4 header (only its length and protocol are read)."""
    return bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0]) + bytes(8)


def _icmp_error(itype: int, code: int, seq: int, rest: bytes = bytes(4)) -> bytes:
    """An ICMP error as the raw socket receives it: IP header, the error, our quoted request."""
    quoted = _ip() + struct.pack("!BBHHH", 8, 0, 0, IDENT, seq)
    return _ip() + struct.pack("!BBH", itype, code, 0) + rest + quoted


@pytest.mark.parametrize(
    ("itype", "code", "failure", "words"),
    [
        (3, 3, EchoFailure.UNREACHABLE, "port unreachable from 203.0.113.1"),
        (3, 13, EchoFailure.UNREACHABLE, "communication administratively prohibited from 203.0.113.1"),
        (3, 4, EchoFailure.TOO_BIG, "fragmentation needed (next-hop MTU 1400) from 203.0.113.1"),
        (11, 0, EchoFailure.TIME_EXCEEDED, "time exceeded from 203.0.113.1"),
        (12, 0, EchoFailure.PARAMETER_PROBLEM, "parameter problem from 203.0.113.1"),
    ],
)
def test_the_raw_ping_names_the_icmp_error_it_got(itype: int, code: int, failure: EchoFailure, words: str) -> None:
    rows: dict[int, EchoRow] = {}
    rest = struct.pack("!HH", 0, 1400) if (itype, code) == (3, 4) else bytes(4)
    icmp._match(_icmp_error(itype, code, 1, rest), "203.0.113.1", IDENT, "198.51.100.20", 56, False, rows, {1: 0.0})
    assert (rows[1].failure, rows[1].error, rows[1].rtt_ms) == (failure, words, None)


def test_a_reply_names_no_failure() -> None:
    rows: dict[int, EchoRow] = {}
    reply = _ip() + struct.pack("!BBHHH", 0, 0, 0, IDENT, 1)
    icmp._match(reply, "198.51.100.20", IDENT, "198.51.100.20", 56, False, rows, {1: 0.0})
    assert rows[1].rtt_ms is not None and rows[1].failure == EchoFailure.NONE


@pytest.mark.parametrize(
    ("words", "failure"),
    [
        ("Destination Port Unreachable", EchoFailure.UNREACHABLE),
        ("Destination Host Prohibited", EchoFailure.UNREACHABLE),
        ("Packet filtered", EchoFailure.UNREACHABLE),
        ("Frag needed and DF set (mtu = 1400)", EchoFailure.TOO_BIG),
        ("Time to live exceeded", EchoFailure.TIME_EXCEEDED),
        ("Parameter problem: pointer = 20", EchoFailure.PARAMETER_PROBLEM),
        ("Redirect Host(New nexthop: 198.51.100.1)", EchoFailure.NONE),
    ],
)
def test_pings_words_name_the_kind_of_error(words: str, failure: EchoFailure) -> None:
    assert failure_of(words) == failure
    out = f"PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.\nFrom 198.51.100.7 icmp_seq=1 {words}\n"
    (row,) = parse_ping(out, "198.51.100.1", 1, 56, 0)
    assert row.failure == failure and row.error == f"{words.lower()} from 198.51.100.7"


def test_windows_unreachable_is_unreachable() -> None:
    out = "Pinging 198.51.100.1 with 32 bytes of data:\nReply from 198.51.100.7: Destination host unreachable.\n"
    (row,) = parse_ping(out, "198.51.100.1", 1, 32, 0, windows=True)
    assert row.failure == EchoFailure.UNREACHABLE


def test_the_field_survives_a_record_and_an_old_record_gets_it_from_its_words() -> None:
    row = EchoRow("198.51.100.20", 1, IDENT, 56, False, None, error="host unreachable from 203.0.113.1",
                  failure=EchoFailure.UNREACHABLE)
    assert row_from_json(row_to_dict(row)) == row
    old = [
        {**row_to_dict(row), "error": error} for error in (
            "port unreachable from 203.0.113.1",  # the raw ping's words
            "destination host prohibited from 203.0.113.1",  # ping's, lowered
            "Network is unreachable",  # the kernel refused to send: never left
            "fragmentation needed (next-hop MTU 1400) from 203.0.113.1",
            "",  # no reply at all
        )
    ]
    for r in old:
        r.pop("failure")
    obs = {"probe": "icmp.echo", "vantage": "local", "rows": old}
    got = [r.get("failure") for r in upgrade_echo_rows(obs)["rows"]]
    assert got == ["unreachable", "unreachable", "not-sent", "too-big", None]
    assert upgrade_echo_rows({**obs, "rows": [row_to_dict(row)]})["rows"] == [row_to_dict(row)]  # new shape: as it is
    step = step_from_json({"id": "s", "layer": "symptom", "title": "t", "status": "fail",
                           "observations": [{**obs, "status": "ok", "rows": old[:1]}]})
    (loaded,) = step.observations[0].rows
    assert loaded.failure == EchoFailure.UNREACHABLE and loaded.error == "port unreachable from 203.0.113.1"
