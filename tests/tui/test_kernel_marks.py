"""The kernel's word in the Packets screen's path view and packet detail (pure data)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from vnetdoctor.probes.base import Observation
from vnetdoctor.tui.widgets.kernel_marks import kernel_marks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_kernel_drops import follow  # noqa: E402  (recorded traces, shared with the probe's tests)


def text(key: str, **values: object) -> str:
    return key + ":" + ",".join(f"{k}={v}" for k, v in sorted(values.items()))


def marks_for(name: str, idents: dict[str, int]):  # type: ignore[no-untyped-def]
    rows = tuple(dataclasses.replace(r, ident=idents.get(r.probe, 0)) for r in follow(name).rows)
    return kernel_marks([Observation("kernel.drops", "netns:vnd-host", rows=rows)])


def test_the_dropped_flow_gets_a_kernel_cell_and_a_line() -> None:
    marks = marks_for("firewall_guest_blocks", {"forward": 4242, "reverse": 4242 + 0x8000})
    assert marks.cells("icmp:4242", "req") == ["✗ NETFILTER_DROP"]
    assert marks.cells(f"icmp:{4242 + 0x8000}", "req") == ["✓ icmp_rcv"]
    assert marks.cells("icmp:1", "req") == [""]  # a flow the kernel did not follow: an empty cell
    lines = marks.lines(["icmp:4242"], text)
    assert lines and "function=nft_do_chain" in lines[0] and "reason=NETFILTER_DROP" in lines[0]
    assert "dev=eth0" in lines[0] and "side=guest" in lines[0]


def test_the_packet_detail_has_the_drop_event() -> None:
    marks = marks_for("firewall_guest_blocks", {"forward": 4242})
    branches = marks.layer("icmp:4242:2", text)
    fields = dict(branches[0][1])
    assert fields["verdict"] == "drop" and fields["reason"] == "NETFILTER_DROP"
    assert fields["location"].startswith("nft_do_chain+") and fields["last_dev"] == "eth0 (guest, in)"
    assert marks.layer("arp:198.18.0.11", text) == []


def test_no_watch_no_column() -> None:
    marks = kernel_marks([Observation("kernel.drops", "netns:vnd-host", status="skipped", reason="needs root")])
    assert not marks and marks.cells("icmp:1", "req") == [] and marks.lines(["icmp:1"], text) == []


def test_rows_read_back_as_fields_still_mark() -> None:
    """A replay may read the record before the row type is imported: the fields still count."""
    rows = tuple(dict(dataclasses.asdict(dataclasses.replace(r, ident=7)))
                 for r in follow("firewall_guest_blocks").rows if r.probe == "forward")
    marks = kernel_marks([Observation("kernel.drops", "netns:vnd-host", rows=rows)])
    assert marks.cells("icmp:7", "req") == ["✗ NETFILTER_DROP"]
