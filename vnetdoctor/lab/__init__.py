"""The fault lab: VM/host topologies in network namespaces, one cause injected at a time.

It is the demo a new user runs first, the ground truth of every diagnosis test
and the benchmark bed. It needs root, touches nothing outside the namespaces it
creates (never the caller's addresses, routes, sysctls or firewall) and uses only
198.18.0.0/15 and the documentation ranges.

Python API (what ``vnetdoctor lab``, ``vnetdoctor demo`` and the engine tests use)::

    from vnetdoctor import lab

    lab.SCENARIOS                       # name -> Scenario
    s = lab.SCENARIOS["firewall.guest_blocks"]
    s.cause, s.topology, s.describe("zh")
    s.available()                       # None, or why it cannot run here (one line)
    s.diagnose_args("vnd-")             # ["--host", "netns:vnd-host", "--guest", "netns:vnd-guest",
                                        #  "--target", "198.18.0.11"]
    s.checks("vnd-")                    # [Check("ping", "vnd-host", "198.18.0.11", False), ...]

    with lab.up("firewall.guest_blocks", prefix="vnd-") as inst:   # LabInstance
        inst.diagnose_args()            # same as above, for this prefix
        for result in lab.run_checks(inst.checks()):
            assert result.as_expected
        inst.revert()                   # the fault is gone ...
        inst.healthy_checks()           # ... and all of these pass again
        inst.inject()                   # and back
    # leaving the block calls lab.down(prefix)

    lab.down("vnd-")                    # removes everything with that prefix, nothing else
    lab.LabInstance.attach("vnd-")      # a lab brought up by another process
    lab.running_labs()                  # [RunningLab(prefix, scenario_name, namespaces, scenario)]

Scenario names are the cause ids they inject (``lab.by_cause(id)`` lists them),
plus ``healthy``, ``healthy-nat``, ``healthy-routed``, ``healthy-vmware`` and
``healthy-virtualbox`` (no cause: the diagnosis must name none) and
``bpdu-guard`` (a persistent variant of ``bridge.port_blocking``). A
:class:`Check` is a named tuple ``(kind, ns, target, expect_ok, port,
expect_reason, expect_answer)``; kinds are ``ping``, ``ping_df_1400``, ``tcp``
and ``dns``, and :func:`run_check` verifies one with iputils ``ping``, a plain
socket connect or the C resolver run under ``ip netns exec``, never with
vnetdoctor's own probes.

Every failure is a :class:`LabError` with a one-line message; ``up`` cleans up
whatever it had built before re-raising. A lab is recorded in
``/run/vnetdoctor-lab/PREFIX.json`` (namespaces, ``/etc/netns`` directories,
server PIDs with their start times), so ``down`` works from any process.
"""

from __future__ import annotations

from .checks import LAB_PORT, Check, CheckResult, run_check, run_checks
from .lifecycle import LabInstance, down, lab_exists, up
from .ops import LabError
from .running import RunningLab, running_labs
from .scenarios import CAUSES_WITH_SCENARIO, SCENARIOS, DiagnoseSpec, Scenario, by_cause
from .topologies import TOPOLOGIES
from .topology import ROLES, Topology

__all__ = [
    "CAUSES_WITH_SCENARIO",
    "LAB_PORT",
    "ROLES",
    "SCENARIOS",
    "TOPOLOGIES",
    "Check",
    "CheckResult",
    "DiagnoseSpec",
    "LabError",
    "LabInstance",
    "RunningLab",
    "Scenario",
    "Topology",
    "by_cause",
    "down",
    "lab_exists",
    "run_check",
    "run_checks",
    "running_labs",
    "up",
]
