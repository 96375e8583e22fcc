"""Fixtures for the real-guest tests: one libvirtd + QEMU guest per test module, healthy before each test.

The guest boots once per test module (TCG on a shared 2-core machine is slow, see
real-vm.md); each test injects its fault, and :func:`healthy_guest` puts the guest
back to the baseline before the next one (checking first and repairing only what
differs). Tests are marked ``realvm``. On a machine that cannot run the real guest
(not root, no namespaces, a package missing, the guest image cannot be built) they
skip with the exact reason — never silently; a failure while bringing the guest up
on a machine that *can* run it is an error, not a skip.

Everything is taken down by PID at the end of the module, also after a failure,
and instances left by a test process that died are swept first.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realvm.support import daemon, faults
from tests.realvm.support.image import ImageUnavailable

TIMINGS: dict[str, float] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here:
            item.add_marker(pytest.mark.realvm)


@pytest.fixture(scope="module")  # not session: the guest goes as soon as its tests are done
def realvm(root_netns_guard: dict[str, list[str]]) -> Iterator[daemon.Instance]:
    """The running instance (libvirtd, NAT network, guest); skipped with the reason where impossible."""
    try:
        daemon.preflight()
    except daemon.HarnessUnavailable as exc:
        pytest.skip(f"real guest unavailable: {exc}")
    swept = daemon.sweep()
    if swept:
        print(f"realvm: swept stale instances {swept}", file=sys.stderr)
    tag = f"t{os.getpid()}"
    try:
        try:
            inst = daemon.up(tag)
        except ImageUnavailable as exc:
            pytest.skip(f"real guest unavailable: cannot build the guest image: {exc}")
        TIMINGS.update(inst.timings)
        yield inst
    finally:
        problems = daemon.down(tag)
        assert not problems, f"realvm left {problems}"


@pytest.fixture
def vm(realvm: daemon.Instance) -> Iterator[daemon.Instance]:
    """The instance, healthy at the start of the test (and put back afterwards for the next one)."""
    faults.restore(realvm)
    start = time.monotonic()
    yield realvm
    TIMINGS[f"test:{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]}"] = round(time.monotonic() - start, 1)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print the figures the issue asks for (guest build, boot, per test) after the run."""
    if TIMINGS:
        terminalreporter.write_sep("-", "realvm timings (s)")
        for key, value in TIMINGS.items():
            terminalreporter.write_line(f"{key}: {value}")
