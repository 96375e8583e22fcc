"""The devices a probe packet crossed are values (side, interface), said in the operator's language.

They were ``"host br0"`` strings that checks split again (``startswith("other ")``) and
that showed in English inside Chinese evidence; records of that time still load.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from tests.unit.support.kernel_traces import follow
from vnetdoctor.convert import step_from_json
from vnetdoctor.knowledge.checks_kernel import kernel_evidence, name_unexplained
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.observer import RecordedObserver
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.kernel_drops_parse import DROP, KernelDevice, KernelDropRow, packet_verdicts
from vnetdoctor.probes.row_types import row_from_json
from vnetdoctor.probes.vantage import LOCAL, Vantage

GUEST = Vantage("netns", "vk2-guest")
SIDE_WORDS = re.compile(r"\b(host|guest|other)\b")
PATH = (KernelDevice("host", "br0"), KernelDevice("host", "vnet0"), KernelDevice("guest", "eth0"))


def _ctx(rows: list[KernelDropRow], lang: str) -> StepContext:
    req = Request(target="198.18.0.11", host=LOCAL, guest=GUEST, lang=lang)
    ctx = StepContext(Shared(req, RecordedObserver([]), lang), "network.firewall", "network")
    watch = Observation(probe="kernel.drops", vantage=str(LOCAL), rows=tuple(rows))
    ctx.facts["trace"] = SimpleNamespace(kernel=(watch,), reachable=False, forward=None, reverse=None)
    return ctx


def _texts(ctx: StepContext) -> list[str]:
    unexplained = name_unexplained(ctx, [])
    return ([str(e.text) for e in kernel_evidence(ctx, "firewall.guest_blocks")]
            + [str(e.text) if hasattr(e, "text") else str(e) for f in unexplained for e in f.evidence])


def test_the_follower_records_each_device_with_its_side() -> None:
    got = packet_verdicts(follow("firewall_guest_blocks").rows)[("forward", "request")]
    assert got.devices == PATH and not any(d.off_path for d in got.devices)
    flooded = packet_verdicts(follow("bridge_flood_disabled").rows)[("forward", "request")]
    assert flooded.devices[-1] == KernelDevice("other", "eth0") and flooded.devices[-1].off_path


def test_a_zh_walks_kernel_evidence_has_no_english_side_words() -> None:
    rows = follow("firewall_guest_blocks").rows
    zh = _texts(_ctx(rows, "zh"))
    assert len(zh) >= 2 and any("经过了" in t for t in zh), zh  # the word, and the devices crossed
    assert not [t for t in zh if SIDE_WORDS.search(t)], zh
    assert any("虚拟机 eth0" in t and "宿主机 br0" in t for t in zh), zh
    en = _texts(_ctx(rows, "en"))
    assert any("host br0, host vnet0, guest eth0" in t for t in en), en


def test_a_device_off_the_path_is_said_as_such() -> None:
    row = KernelDropRow(probe="forward", kind="request", length=300, verdict=DROP, reason="OTHERHOST",
                        location="ip_rcv_core+0x1/0x2", function="ip_rcv_core",
                        devices=(KernelDevice("host", "br0"), KernelDevice("other", "eth0")),
                        last_dev="eth0", side="other", at_ms=0.1)
    texts = [str(e.text) for e in kernel_evidence(_ctx([row, row], "zh"), "bridge.port_blocking")]
    assert texts and all("路径之外" in t and not SIDE_WORDS.search(t) for t in texts), texts


OLD_ROW = {"_type": "KernelDropRow", "probe": "forward", "kind": "request", "length": 300, "verdict": DROP,
           "reason": "NETFILTER_DROP", "location": "nft_do_chain+0x46f/0x5a0", "function": "nft_do_chain",
           "devices": ["host br0", "host vnet0", "guest eth0"], "last_dev": "eth0", "side": "guest",
           "at_ms": 0.2, "direction": "in", "ident": 7}


def test_an_old_record_with_devices_as_text_loads_as_devices() -> None:
    step = {"id": "symptom.ping", "layer": "symptom", "title": "Ping both ways", "status": "fail",
            "duration_ms": 1.0, "note": "", "answer": "", "findings": [],
            "observations": [{"probe": "kernel.drops", "vantage": "local", "status": "ok", "rows": [OLD_ROW],
                              "raw": "", "reason": "", "duration_ms": 1.0, "params": {}, "layer": "symptom"}]}
    got = step_from_json(step).observations[0].rows[0]
    assert isinstance(got, KernelDropRow) and got.devices == PATH
    assert got.reason == "NETFILTER_DROP" and got.ident == 7  # nothing else changed


def test_the_new_shape_round_trips_through_the_row_codec() -> None:
    row = packet_verdicts(follow("firewall_guest_blocks").rows)[("forward", "request")]
    from dataclasses import asdict
    assert row_from_json({"_type": "KernelDropRow", **asdict(row)}) == row
