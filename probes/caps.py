"""What this process may do: read from ``/proc/self/status``, never guessed from uid.

Probes declare what they need; the runner turns a missing capability into
``skipped: needs CAP_NET_RAW`` instead of letting the probe fail half-way.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterable

CAP_NET_ADMIN = 12
CAP_NET_RAW = 13
CAP_SYS_ADMIN = 21

_NAMES = {CAP_NET_ADMIN: "CAP_NET_ADMIN", CAP_NET_RAW: "CAP_NET_RAW", CAP_SYS_ADMIN: "CAP_SYS_ADMIN"}

# What a probe may declare in ``needs`` and how it is checked.
NEED_NET_ADMIN = "net_admin"
NEED_NET_RAW = "net_raw"
NEED_SETNS = "setns"  # entering another network namespace needs CAP_SYS_ADMIN


@functools.lru_cache(maxsize=1)
def effective_caps() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def has_cap(cap: int) -> bool:
    return bool(effective_caps() & (1 << cap))


def cap_name(cap: int) -> str:
    return _NAMES.get(cap, f"CAP_{cap}")


def missing_needs(needs: Iterable[str]) -> str | None:
    """Why a probe with these needs cannot run (``needs CAP_NET_ADMIN, CAP_SYS_ADMIN``), or None.

    Every missing capability is named at once: an operator who gains one of two is
    otherwise told about the second only on the next run.
    """
    missing = [why for why in (missing_need(n) for n in sorted(set(needs))) if why]
    caps = [why.removeprefix("needs ") for why in missing if why.startswith("needs CAP_")]
    if len(caps) > 1:
        others = [why for why in missing if not why.startswith("needs CAP_")]
        return "; ".join(["needs " + ", ".join(caps), *others])
    return "; ".join(missing) or None


def missing_need(need: str) -> str | None:
    """The reason a need is not met (``needs CAP_NET_RAW``), or None when it is."""
    table = {NEED_NET_ADMIN: CAP_NET_ADMIN, NEED_NET_RAW: CAP_NET_RAW, NEED_SETNS: CAP_SYS_ADMIN}
    if need in table:
        cap = table[need]
        return None if has_cap(cap) else f"needs {cap_name(cap)}"
    if need.startswith("cmd:"):
        tool = need[4:]
        return None if shutil.which(tool) else f"needs the {tool} command"
    return None
