"""Load the probe lab state recorded by ``tests/lab/support/record_probe_data.py``.

One recording holds, for the same moment of one lab, the raw netlink dumps, the
``ip -j``/``bridge -j`` output, the firewall tools' output and ``sysctl -a``:
which is what lets unit tests check that three decoders agree without root.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from vnetdoctor.bench_netlink_pyroute2 import parse

__all__ = ["chunks", "command", "messages", "names", "parse", "side", "state"]

DATA = Path(__file__).resolve().parents[1] / "data" / "probes"


@lru_cache(maxsize=1)
def state() -> dict[str, Any]:
    return json.loads((DATA / "lab_state.json").read_text())


def side(name: str) -> dict[str, Any]:
    """``host`` or ``guest``."""
    return state()[name]


def chunks(name: str, dump: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in side(name)["dumps"][dump]]


def names(name: str) -> dict[int, str]:
    return {int(k): v for k, v in side(name)["names"].items()}


def command(name: str, key: str) -> dict[str, Any]:
    return side(name)["ip"][key]


def messages(name: str, dump: str) -> list[Any]:
    """The recorded ``dump`` of side ``name`` as pyroute2 messages."""
    return parse(chunks(name, dump))
