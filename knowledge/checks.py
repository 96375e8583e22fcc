"""The registry of step checks: the code behind each flowchart step id.

A check is ``fn(ctx: StepContext) -> None``. It observes through ``ctx.observe``
(memoised per diagnosis, recorded into the step), and reports with
``ctx.found(cause_id, …)``, ``ctx.passed(note)``, ``ctx.warn(…)`` or
``ctx.skip(reason)`` (``concluded=True`` when the reason is a fact drawn from what was
observed, e.g. "the path crosses no bridge": said only if those probes ran). The
step's status follows from what it reported. Checks key
on what a fault *is* (a DROP rule whose counter moved while our echo requests were
sent), never on how the lab builds it (interface or namespace names).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import StepContext

CheckFn = Callable[["StepContext"], None]
CHECKS: dict[str, CheckFn] = {}


def check(step_id: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        if step_id in CHECKS:
            raise ValueError(f"check for step {step_id!r} registered twice")
        CHECKS[step_id] = fn
        return fn

    return deco


_CHECK_MODULES = (
    "checks_symptom",
    "checks_platform",
    "checks_physical",
    "checks_datalink",
    "checks_network",
    "checks_transport",
    "checks_application",
    "checks_questions",
)


def load_checks() -> dict[str, CheckFn]:
    from vnetdoctor.probes.base import import_plugins

    import_plugins(__package__ or "vnetdoctor.knowledge", _CHECK_MODULES)
    return CHECKS
