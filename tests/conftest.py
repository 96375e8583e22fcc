"""Shared fixtures: unique lab prefixes, and the guard that the root namespace never changes.

Every test marked ``lab`` (it needs root and network namespaces)

* is skipped, with the reason, when this process cannot create namespaces;
* uses the session-wide :func:`root_netns_guard`, which snapshots the root
  namespace's links, addresses, routes, rules, nftables/iptables rules and the
  sysctls the lab design mentions before the first lab test and fails the
  session if any of them differs after the last one.

``lab_prefix`` gives a test a prefix nobody else uses (``vnd-t<pid>x<n>-``, short
because namespace names end up in paths and logs) and takes down whatever the
lab built under it, in a ``finally``, even when the test failed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vnetdoctor.lab.guard import root_snapshot, snapshot_diff

_COUNTER = itertools.count()

# Active probes in tests may only address 198.18.0.0/15 and the documentation ranges:
# a namespace that inherited the machine's resolver must not send it a query.
os.environ["VNETDOCTOR_TEST_RANGES_ONLY"] = "1"
# Template rendering is strict in every test (knowledge/catalog_templates.strict_default):
# a rule that forgets a placeholder fails the test that renders it instead of showing
# ``<name>`` to an operator. Production never sets it; subprocesses inherit it.
os.environ["VNETDOCTOR_STRICT_TEMPLATES"] = "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-screenshots", action="store_true", default=False,
        help="write the README's screenshots/*.svg from the snapshot tests (they never write them otherwise)",
    )


LAB_DIR = Path(__file__).resolve().parent / "lab"


def misplaced_lab_tests(items: list[pytest.Item]) -> list[str]:
    """Tests marked ``lab`` outside tests/lab (the folder is the marker: see tests/lab/conftest.py)."""
    return [item.nodeid for item in items
            if item.get_closest_marker("lab") is not None and not item.path.is_relative_to(LAB_DIR)]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close libvirt connections while libvirt's module is still whole.

    A connection left in the probes' cache, or in a reference cycle of a test's, was
    otherwise closed by ``virConnect.__del__`` during interpreter teardown, after
    libvirt's C module was cleared: a "TypeError: 'NoneType' object is not callable"
    at the very end of every CI log.
    """
    import gc
    import sys

    if "libvirt" in sys.modules:
        from vnetdoctor.probes.libvirt_conn import forget

        forget()
        gc.collect()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    misplaced = misplaced_lab_tests(items)
    if misplaced:
        raise pytest.UsageError("lab tests belong in tests/lab: " + ", ".join(misplaced[:5]))


def privileged() -> bool:
    """Creating namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN (read from /proc, not uid)."""
    from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, has_cap

    return has_cap(CAP_NET_ADMIN) and has_cap(CAP_SYS_ADMIN) and shutil.which("ip") is not None


NOT_ROOT_REASON = "needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2 to create network namespaces"


def make_lab_prefix() -> str:
    """A prefix unique to this process and call: ``vnd-t<pid>x<n>-``."""
    return f"vnd-t{os.getpid()}x{next(_COUNTER)}-"


# --- the root namespace guard (the snapshot itself: vnetdoctor.lab.guard) ---------------

@pytest.fixture(scope="session")
def root_netns_guard() -> Iterator[dict[str, list[str]]]:
    """Fail the session if the root namespace differs after the lab tests from before them."""
    before = root_snapshot()
    yield before
    # Poll briefly: another tool on a shared machine may be mid-way through something.
    deadline = time.monotonic() + 5.0
    while True:
        diff = snapshot_diff(before, root_snapshot())
        if not diff or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not diff, "the lab tests changed the root namespace:\n" + "\n".join(diff[:40])


@pytest.fixture(autouse=True)
def _lab_marker_guard(request: pytest.FixtureRequest) -> None:
    """Lab tests: skip without privileges, else run under the root-namespace guard."""
    if request.node.get_closest_marker("lab") is None:
        return
    if not privileged():
        pytest.skip(NOT_ROOT_REASON)
    request.getfixturevalue("root_netns_guard")


@pytest.fixture
def lab_prefix() -> Iterator[str]:
    """A fresh lab prefix; everything built under it is taken down afterwards, always."""
    prefix = make_lab_prefix()
    try:
        yield prefix
    finally:
        if privileged():
            from vnetdoctor.lab import lab_exists
            from vnetdoctor.lab.lifecycle import down_report

            report = down_report(prefix)
            left = lab_exists(prefix)
            assert not report.problems and not left, f"lab {prefix} left {report.problems + left}"
