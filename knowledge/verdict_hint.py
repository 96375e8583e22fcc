"""What would help an inconclusive walk: the capabilities whose lack skipped its steps.

Run without privileges, most probes are skipped and the walk ends with no cause; "check
the skipped steps" leaves the operator to read every note to learn that one rerun as
root would answer them all. This says so once, from the skip reasons actually seen
(:meth:`Diagnosis.capability_skips`), for the console report and the TUI's verdict alike;
``diagnose --json`` carries the same facts as fields.
"""

from __future__ import annotations

from vnetdoctor.probes.vocabulary import Verdict

from .model import Diagnosis
from .text import join, tr


def capability_hint(diagnosis: Diagnosis, lang: str) -> str:
    """``Skipped for lack of CAP_NET_ADMIN, CAP_NET_RAW: 12 of 20 steps. Run as root …``, or ""
    when the walk named a cause, or no step was skipped for want of a capability."""
    if diagnosis.verdict is not Verdict.INCONCLUSIVE:
        return ""
    caps, skipped = diagnosis.capability_skips()
    if not caps:
        return ""
    return tr("verdict.capability_hint", lang, caps=join(caps, lang), skipped=skipped, total=len(diagnosis.steps))
