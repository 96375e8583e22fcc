"""Kernel traces recorded from the lab (tests/data/kernel_trace/), followed as the probe follows them.

Shared by the probe's unit tests and the Packets screen's kernel-mark tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from vnetdoctor.probes.kernel_drops_parse import Follower, ProbeLength, parse

DATA = Path(__file__).resolve().parents[2] / "data" / "kernel_trace"


def follow(name: str) -> Follower:
    meta = json.loads((DATA / f"{name}.json").read_text())
    fwd, rev = (int(n) for n in meta["lengths"].split(","))
    path = [tuple(hop.split(":", 1)) for hop in meta["path"]]
    follower = Follower([ProbeLength(fwd, "forward", "host"), ProbeLength(rev, "reverse", "guest")], path)
    follower.feed(parse((DATA / f"{name}.trace").read_text()))
    return follower


