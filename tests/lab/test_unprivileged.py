"""``diagnose`` as a really unprivileged process, and subnet-edge targets (issue 8, items 6-7).

The tests run as root, so the CLI is started through ``setpriv`` as ``nobody`` with
no capability at all (bounding set cleared). When run inside a lab namespace
(``ip netns exec``) its "local" vantage is that namespace, so whatever it may
still do stays in a namespace the test created. ``nobody`` cannot run the venv's
interpreter when it lives under ``/root``: then a system interpreter of the same
version is given the venv's site-packages; failing that, uid 0 with every
capability dropped stands in (what matters here is the capability set).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable

import pytest

from vnetdoctor.lab import LabInstance

pytestmark = pytest.mark.lab

SITE = sysconfig.get_paths()["purelib"]
BOOT = (f"import site, sys; site.addsitedir({SITE!r}); sys.argv[0] = 'vnetdoctor'; "
        "from vnetdoctor.cli import main; sys.exit(main())")
DROP = ["--inh-caps=-all", "--bounding-set=-all"]
NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"]


def _runs(prefix: list[str]) -> bool:
    try:
        res = subprocess.run([*prefix, "--version"], check=False, capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return res.returncode == 0


@functools.cache
def unprivileged() -> list[str]:
    """argv prefix that runs ``vnetdoctor`` with no capability (as nobody where possible)."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop privileges")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in dict.fromkeys([os.path.realpath(sys.executable), f"/usr/bin/{version}"]):
        prefix = ["setpriv", *NOBODY, *DROP, "env", "HOME=/nonexistent", python, "-I", "-c", BOOT]
        if os.path.exists(python) and _runs(prefix):
            return prefix
    return ["setpriv", *DROP, sys.executable, "-I", "-c", BOOT]


def run_cli(*argv: str, netns: str | None = None) -> subprocess.CompletedProcess[str]:
    inside = ["ip", "netns", "exec", netns] if netns else []
    env = dict(os.environ, VNETDOCTOR_TEST_RANGES_ONLY="1")
    env.pop("VNETDOCTOR_DEBUG", None)
    return subprocess.run([*inside, *unprivileged(), *argv], check=False, capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


def test_the_wrapped_process_has_no_capability() -> None:
    code = "from vnetdoctor.probes.caps import effective_caps; print(effective_caps())"
    prefix = unprivileged()
    res = subprocess.run([*prefix[:prefix.index("-c") + 1], f"import site; site.addsitedir({SITE!r}); {code}"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "0", res.stderr


def _steps(doc: dict) -> dict[str, dict]:
    return {s["id"]: s for s in doc["steps"]}


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
def test_without_root_diagnose_runs_what_it_can_and_claims_nothing_else(
    bring_up: Callable[[str], LabInstance], lab_prefix: str
) -> None:
    """The reported case: the host's firewall drops ping, and nobody may read the firewall."""
    bring_up("firewall.host_blocks")
    res = run_cli("diagnose", "--target", "198.18.0.11", "--no-record", "--json", netns=f"{lab_prefix}host")
    assert res.returncode == 3, res.stderr  # unexplained: inconclusive, not a cause, not healthy
    assert "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    steps = _steps(doc)
    assert doc["causes"] == [] and doc["reachable"] is None
    for step_id, cap in (("network.firewall", "CAP_NET_ADMIN"), ("datalink.bridge_filter", "CAP_NET_ADMIN"),
                         ("datalink.arp", "CAP_NET_RAW"), ("symptom.ping", "CAP_NET_RAW"),
                         ("datalink.mtu", "CAP_NET_RAW")):
        assert steps[step_id]["status"] == "skip", steps[step_id]
        assert cap in steps[step_id]["note"], steps[step_id]
    assert "DROP" not in steps["network.firewall"]["note"]
    # What needs no privilege still ran, and passes on what it saw.
    assert steps["network.address"]["status"] == "pass"
    assert steps["network.route"]["status"] == "pass"
    for step in doc["steps"]:
        if step["status"] == "pass":
            assert all(o["status"] == "ok" for o in step["observations"]
                       if o["probe"] not in ("capture.path",)), step["id"]
    # The text report marks no skipped step with ✓.
    res = run_cli("diagnose", "--target", "198.18.0.11", "--no-record", netns=f"{lab_prefix}host")
    assert res.returncode == 3
    firewall_line = next(line for line in res.stdout.splitlines() if "Firewall rules" in line)
    assert "✓" not in firewall_line and "CAP_NET_ADMIN" in firewall_line


def test_without_root_namespace_vantages_are_skipped_with_cap_sys_admin(
    bring_up: Callable[[str], LabInstance], lab_prefix: str
) -> None:
    bring_up("healthy")
    res = run_cli("diagnose", "--host", f"netns:{lab_prefix}host", "--guest", f"netns:{lab_prefix}guest",
                  "--target", "198.18.0.11", "--no-record", "--json")
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    observed = [o for s in doc["steps"] for o in s["observations"]
                if o["vantage"].startswith("netns:") and o["probe"] != "capture.path"]
    assert observed and all(o["status"] == "skipped" and "CAP_SYS_ADMIN" in o["reason"] for o in observed)
    assert not any(s["status"] == "pass" for s in doc["steps"]), [s["id"] for s in doc["steps"]
                                                                  if s["status"] == "pass"]


# Facts a check concludes from the path or the host's links when it stops: each would be
# a claim nobody observed when the probes behind it were skipped (issue 10).
CONCLUSIONS = ("datalink.no_bridge", "datalink.host_end_unknown", "datalink.no_next_hop",
               "network.not_beyond_router", "physical.no_nic_without_carrier", "platform.no_vmware",
               "platform.no_virtualbox")
# Steps that stop on the request or an operator's answer, not on any probe.
NOT_PROBED = {"platform.libvirt": "no libvirt guest in this request",
              "application.guest_console": "don't know / can't check"}


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
def test_without_root_no_note_claims_a_fact_its_skipped_probes_would_have_seen(
    bring_up: Callable[[str], LabInstance], lab_prefix: str
) -> None:
    """The simulated VMware host has vmnet1 and vmnet8 on a bridge-less path; nobody may read it.

    Every probe in the two namespaces is skipped, so a note saying "no VMware Workstation
    networking" or "the path crosses no bridge" would claim what no probe saw (here the
    first one is even false): every step says what it could not run, or rests on the request.
    """
    from vnetdoctor.knowledge.text import tr

    bring_up("healthy-vmware")
    res = run_cli("diagnose", "--host", f"netns:{lab_prefix}host", "--guest", f"netns:{lab_prefix}guest",
                  "--target", "198.18.8.128", "--port", "8080", "--no-record", "--json")
    assert res.returncode == 3, res.stderr
    steps = _steps(json.loads(res.stdout))
    claims = [str(tr(key, "en")) for key in CONCLUSIONS]
    for step_id, step in steps.items():
        note = step["note"]
        assert not [c for c in claims if c in note], (step_id, note)
        if step_id in NOT_PROBED:
            assert note.startswith(NOT_PROBED[step_id]), (step_id, note)
        else:
            assert step["status"] == "skip" and "needs CAP_" in note, (step_id, note)
    for step_id in ("platform.vmware", "datalink.bridge_filter", "physical.cable", "network.nat"):
        assert steps[step_id]["note"].startswith("skipped: needs CAP_SYS_ADMIN (link.list on netns:"), steps[step_id]


def test_without_root_ip_forwarding_is_not_blamed_for_traffic_the_host_may_only_bridge(
    bring_up: Callable[[str], LabInstance], lab_prefix: str
) -> None:
    """Inside the host's namespace its links and sysctls are readable (ip_forward is 0 there),
    the guest's namespace is not: whether the host routes or bridges the guest's traffic to
    the LAN peer was not seen (it bridges), so forwarding is no cause."""
    bring_up("firewall.br_netfilter_drop")
    res = run_cli("diagnose", "--guest", f"netns:{lab_prefix}guest", "--from", "guest", "--target", "198.18.0.254",
                  "--no-record", "--json", netns=f"{lab_prefix}host")
    assert res.returncode == 3, res.stdout[-2000:] + res.stderr
    doc = json.loads(res.stdout)
    sysctl = _steps(doc)["network.sysctl"]
    assert doc["causes"] == [] and sysctl["status"] == "skip", sysctl
    assert "CAP_SYS_ADMIN" in sysctl["note"], sysctl


# --- targets on a subnet's edge ------------------------------------------------------------------

@pytest.mark.slow  # over 5 s on a loaded 2-core machine
def test_a_subnets_broadcast_and_network_address_are_refused(
    bring_up: Callable[[str], LabInstance], lab_prefix: str
) -> None:
    from vnetdoctor.session.request import RequestError, parse_request

    bring_up("healthy")  # host br0 198.18.0.1/24, guest eth0 198.18.0.11/24
    host, guest = f"netns:{lab_prefix}host", f"netns:{lab_prefix}guest"
    cases = [
        (["--host", host, "--target", "198.18.0.255"],
         "--target 198.18.0.255 is the broadcast address of 198.18.0.0/24 on br0, not a host"),
        (["--host", host, "--target", "198.18.0.0"],
         "--target 198.18.0.0 is the network address of 198.18.0.0/24 on br0, not a host"),
        (["--host", host, "--guest", guest, "--from", "guest", "--target", "198.18.0.255"],
         "--target 198.18.0.255 is the broadcast address of 198.18.0.0/24 on br0, not a host"),
    ]
    for args, line in cases:
        res = subprocess.run([sys.executable, "-m", "vnetdoctor", "diagnose", *args, "--no-record"],
                             check=False, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert res.returncode == 2 and res.stderr == f"vnetdoctor diagnose: {line}\n", res.stderr
        res = subprocess.run([sys.executable, "-m", "vnetdoctor", "tui", *args, "--no-record"],
                             check=False, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "198.18.0." in res.stderr, res.stderr
    # The guest's own subnet counts when the guest sends (its eth0 here, seen from inside).
    with pytest.raises(RequestError) as err:
        parse_request(target="198.18.0.255", from_side="guest", host="local", guest=guest)
    assert err.value.fmt["reason"] == "198.18.0.255 is the broadcast address of 198.18.0.0/24 on eth0, not a host"
    with pytest.raises(RequestError):
        parse_request(target="198.18.0.0", host=host)
    # A host of that subnet is still a target.
    assert parse_request(target="198.18.0.11", host=host).target == "198.18.0.11"
