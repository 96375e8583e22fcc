"""VMware/VirtualBox checks on simulated host interfaces in namespaces this test builds.

vmnet1/vmnet8 and vboxnet0 are stand-ins (bridges named like them) inside a
namespace that plays the host; the real link.list/addr.list probes read them.
The fix each finding offers is then run, and the check passes; its undo brings
the finding back. Everything lives in ``vnd-tpl<pid>-*`` namespaces with
198.18.0.0/15 addresses, removed in ``finally``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator

import pytest
from vnetdoctor.knowledge.apply import apply_fix
from vnetdoctor.knowledge.checks import load_checks
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import FAIL, PASS, Fix, Request
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.probes.vantage import Vantage, parse_vantage

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create network namespaces"),
]
CHECKS = load_checks()


def sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


@pytest.fixture
def host() -> Iterator[Vantage]:
    name = f"vnd-tpl{os.getpid()}-host"
    try:
        sh("ip", "netns", "add", name)
        batch = (
            "link set lo up\n"
            "link add vmnet1 type bridge\n"
            "link add vmnet8 type bridge\n"
            "link add vboxnet0 type bridge\n"
            "addr add 198.18.1.1/24 dev vmnet1\n"
            "addr add 198.18.8.1/24 dev vmnet8\n"
            "link set vmnet1 up\n"
            "link set vboxnet0 up\n"
        )
        subprocess.run(["ip", "-n", name, "-batch", "-"], input=batch, text=True, check=True, capture_output=True)
        yield parse_vantage(f"netns:{name}")
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def check(step: str, host: Vantage, target: str | None = None) -> StepContext:
    ctx = StepContext(Shared(Request(target=target, host=host), Observer(), "en"), step, "platform")
    CHECKS[step](ctx)
    return ctx


def run_fix(fix: Fix, undo: bool = False) -> None:
    """Apply through the walk's own path (argv, no shell); the undo as the operator pastes it."""
    if undo:
        assert shlex.split(fix.undo) == list(fix.undo_argv)
        subprocess.run(list(fix.undo_argv), check=True, capture_output=True)
        return
    res = apply_fix(fix, timeout=10)
    assert res.ok, res


def test_vmnet8_down_found_fixed_and_undone(host):
    ctx = check("platform.vmware", host)
    assert ctx.status() == FAIL
    (f,) = ctx.findings
    assert f.summary == f"VMware interface vmnet8 is down on {host}"
    fix = f.fixes[0]
    assert fix.command == f"ip netns exec {host.name} ip link set dev vmnet8 up"
    run_fix(fix)
    assert check("platform.vmware", host).status() == PASS
    run_fix(fix, undo=True)
    assert check("platform.vmware", host).status() == FAIL


def test_vmnet8_missing_unless_the_target_is_on_vmnet1(host):
    sh("ip", "-n", host.name, "link", "del", "vmnet8")
    f = check("platform.vmware", host).findings[0]
    assert f.summary == f"VMware interface vmnet8 is missing on {host}"
    assert check("platform.vmware", host, target="198.18.1.50").status() == PASS


def test_vboxnet0_without_its_address(host):
    ctx = check("platform.virtualbox", host)
    (f,) = ctx.findings
    assert f.summary == f"VirtualBox interface vboxnet0 on {host} is without its IPv4 address"
    sh("ip", "-n", host.name, "addr", "add", "198.18.56.1/24", "dev", "vboxnet0")
    ctx = check("platform.virtualbox", host)
    assert ctx.status() == PASS
    assert ctx.summary_note() == "VirtualBox host-only networking up: vboxnet0 198.18.56.1/24"
    sh("ip", "-n", host.name, "link", "set", "vboxnet0", "down")
    f = check("platform.virtualbox", host).findings[0]
    assert f.summary == f"VirtualBox interface vboxnet0 on {host} is down"
    run_fix(f.fixes[0])
    assert check("platform.virtualbox", host).status() == PASS
