"""What "took" says: the time of the latest walk, and which walk that was.

Found off the demo path: after a fix, its undo and the re-runs they caused, the
verdict said "took 611 ms" — the re-run's time, read as the whole diagnosis's. The
engine records what its time measures (``Diagnosis.extra["took"]``: the whole walk,
the steps run one by one, or a re-run with the steps it walked again) and every
place that shows the time (the verdict pane, the report) says it through here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .text import duration, tr


def took_text(took: Mapping[str, Any] | None, ms: float, lang: str,
              title: Callable[[str], str | None] = lambda step: None) -> str:
    """``the walk took 2.3 s`` · ``re-run of Firewall (20 steps) took 611 ms`` · ``took 2.3 s`` (an old record)."""
    spent = duration(ms, lang)
    run = (took or {}).get("run")
    if run == "rerun":
        step = str(took.get("step") or "") if took else ""
        n = took.get("n") if took else None
        return tr("verdict.took_rerun", lang, step=title(step) or step, n=n if isinstance(n, int) else 1,
                  duration=spent)
    if run in ("walk", "steps"):
        return tr(f"verdict.took_{run}", lang, duration=spent)
    return f"{tr('verdict.took', lang)} {spent}"


__all__ = ["took_text"]
