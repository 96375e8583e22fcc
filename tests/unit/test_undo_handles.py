"""An undone fix is not undone again, and a fix made again aims at what is there now.

Found off the demo path (nftables lab, TUI): after undoing ``nft delete rule inet
filter input handle 7``, the undo dialog offered to undo the undo — by running the
original command again, handle 7 and all — while the undo had re-added the rule
under a new handle. Here a stand-in for nft keeps rules under handles it numbers
itself (as nft does), the step builds its fix from the handle it observes now, and
the session applies, undoes and re-applies through its one door.
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.support.fake_engine import FakeEngine
from tests.unit.support import store_fixtures as F

from vnetdoctor.knowledge.apply import undo_of
from vnetdoctor.knowledge.model import FAIL, PASS, Finding, Fix, StepResult
from vnetdoctor.session import Session
from vnetdoctor.session.core import REFUSED

# `nft add rule RULE` / `nft delete rule HANDLE` on a JSON file: each rule added gets the next handle.
NFT = textwrap.dedent(
    """
    import json, sys
    path, verb, arg = sys.argv[1:4]
    state = json.load(open(path))
    if verb == "add":
        state["next"] += 1
        state["rules"][str(state["next"])] = arg
    elif arg in state["rules"]:
        del state["rules"][arg]
    else:
        sys.exit("Error: Could not process rule: No such file or directory (handle %s)" % arg)
    json.dump(state, open(path, "w"))
    """
)
RULE = "icmp type echo-request drop"


@dataclass
class Firewall:
    """The rules as the stand-in nft keeps them, and the argv that changes them."""

    state: Path
    script: Path

    def rules(self) -> dict[str, str]:
        return dict(json.loads(self.state.read_text())["rules"])

    def argv(self, verb: str, arg: str) -> tuple[str, ...]:
        return (sys.executable, str(self.script), str(self.state), verb, arg)


def firewall_step(fw: Firewall, step_id: str = "network.firewall") -> StepResult:
    """The one step, as it sees ``fw`` now: its fix deletes the dropping rule by the handle seen now."""
    drops = [h for h, rule in fw.rules().items() if rule == RULE]
    if not drops:
        return StepResult(step_id, "network", "Firewall", PASS, "no rule drops echo")
    fix = Fix.of(fw.argv("delete", drops[0]), fw.argv("add", RULE), risk="medium", where="local")
    return StepResult(step_id, "network", "Firewall", FAIL, f"handle {drops[0]} drops echo",
                      findings=(Finding("firewall.guest_blocks", "network", "drops", fixes=(fix,)),))


def engine(fw: Firewall) -> Any:
    """The one fake engine over that step, read from the rules each time it runs."""
    return lambda req, ask, emit: FakeEngine(req, [firewall_step(fw)], ask=ask, on_event=emit,
                                             result_of=partial(firewall_step, fw))


@pytest.fixture
def fw(tmp_path: Path) -> Firewall:
    script = tmp_path / "nft.py"
    script.write_text(NFT)
    state = tmp_path / "ruleset.json"
    state.write_text(json.dumps({"next": 7, "rules": {"7": RULE}}))
    return Firewall(state, script)


def the_fix(session: Session) -> Fix:
    (finding,) = session.diagnosis().causes
    return finding.fixes[0]


def test_an_undo_has_no_undo_and_a_fix_made_again_uses_the_new_handle(fw: Firewall) -> None:
    session = Session(F.request(), engine(fw))
    session.plan()
    session.run()
    first = the_fix(session)
    assert first.argv[-1] == "7"
    assert session.apply_fix(first, "network.firewall", 10.0).ok and fw.rules() == {}
    (change,) = session.changes
    # What the undo dialog shows: the undo's command, and no undo of it (it would say handle 7).
    undo = undo_of(change.applied.fix)
    assert undo.argv == fw.argv("add", RULE) and undo.undo_argv == () and undo.undo == ""
    assert session.undo_fix(change, 10.0).ok
    assert fw.rules() == {"8": RULE}  # back, under the handle nft gave it now
    # Undone once: not again (it would add the rule a second time).
    again = session.undo_fix(change, 10.0)
    assert again.returncode == REFUSED and fw.rules() == {"8": RULE}
    # The step re-ran after the undo: its fix aims at handle 8, and applying it removes the rule.
    second = the_fix(session)
    assert second.argv[-1] == "8" and second != first
    assert session.apply_fix(second, "network.firewall", 10.0).ok and fw.rules() == {}
    assert [c.applied.fix.argv[-1] for c in session.changes] == ["7", "8"]
    # Its own undo is offered, once: the latest change is the one the panel highlights.
    assert session.undo_fix(session.changes[-1], 10.0).ok and fw.rules() == {"9": RULE}
