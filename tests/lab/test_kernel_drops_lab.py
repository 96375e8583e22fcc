"""kernel.drops and --trace-rules against the real kernel, in lab namespaces only.

Each lab fault's expected reason is checked by the accuracy suite
(test_diagnose_accuracy.py with kernel_expected.py); here: the exact rule named by an
nftables trace, two runs at once each getting their own drops, and nothing left behind
after a SIGKILL once the next run has swept.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.lab.support.diagnosis import diagnose
from vnetdoctor import lab
from vnetdoctor.probes import kernel_drops_tracefs, nft_trace
from vnetdoctor.probes.base import Skip
from vnetdoctor.probes.vantage import parse_vantage

pytestmark = pytest.mark.lab


def _tracefs_or_skip() -> None:
    try:
        kernel_drops_tracefs.root_fd()
    except Skip as exc:
        pytest.skip(str(exc))


def _evidence(d) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.text for e in d.causes[0].evidence]


@pytest.mark.parametrize(("name", "expected"), [
    ("firewall.guest_blocks",
     'nftables trace: inet filter input, rule handle 2 "icmp type echo-request counter drop": drop'),
    ("firewall.forward_blocks", "nftables trace: inet filter forward, the chain's policy: drop"),
])
def test_trace_rules_names_the_rule_and_removes_its_table(name: str, expected: str, lab_prefix: str) -> None:
    _tracefs_or_skip()
    with lab.up(name, lab_prefix) as inst:
        d = diagnose([*inst.diagnose_args(), "--trace-rules"])
        assert d.request.trace_rules
        assert d.causes[0].cause == name
        assert expected in _evidence(d)
        traced = [o for s in d.steps for o in s.observations if o.probe == "nft.trace"]
        assert traced and traced[0].ok and traced[0].vantage.startswith("netns:")
        for side in ("host", "guest"):
            assert nft_trace.tables(parse_vantage(f"netns:{lab_prefix}{side}")) == []


def test_without_the_flag_no_trace_table_is_added(lab_prefix: str) -> None:
    _tracefs_or_skip()
    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        d = diagnose(inst.diagnose_args())
    assert not [o for s in d.steps for o in s.observations if o.probe == "nft.trace"]
    assert not [e for e in _evidence(d) if e.startswith("nftables trace")]
    assert any(e.startswith("kernel: echo request dropped in nft_do_chain, NETFILTER_DROP") for e in _evidence(d))


def test_two_runs_at_once_both_get_their_own_drops(lab_prefix: str) -> None:
    """Two processes, two tracefs instances: each sees every event, and its own probes' drops."""
    _tracefs_or_skip()
    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        argv = [sys.executable, "-m", "vnetdoctor", "diagnose", *inst.diagnose_args(), "--json", "--no-record"]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
    for (out, err), proc in zip(outs, procs, strict=True):
        assert proc.returncode == 1, err
        doc = json.loads(out)
        texts = [e["text"] for e in doc["causes"][0]["evidence"]]
        assert any(t.startswith("kernel: echo request dropped in nft_do_chain, NETFILTER_DROP") for t in texts), texts
        assert not [n for n in kernel_drops_tracefs.instances() if n.startswith(f"vnetdoctor-{proc.pid}-")]


CHILD = textwrap.dedent("""
    import sys, time
    from vnetdoctor.probes import nft_trace
    from vnetdoctor.probes.kernel_drops_tracefs import Instance
    from vnetdoctor.probes.nsexec import call_in
    from vnetdoctor.probes.vantage import parse_vantage
    inst = Instance()
    inst.create()
    vantage = parse_vantage(sys.argv[1])
    code, why = nft_trace._nft_stdin(vantage, nft_trace.ruleset(nft_trace.table_name(), None, "198.18.0.11", 133))
    assert code == 0, why
    print(inst.name, flush=True)
    time.sleep(60)
""")


def test_a_killed_run_leaves_nothing_once_the_next_one_has_swept(lab_prefix: str) -> None:
    _tracefs_or_skip()
    with lab.up("firewall.guest_blocks", lab_prefix):
        guest = parse_vantage(f"netns:{lab_prefix}guest")
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(guest)], stdout=subprocess.PIPE, text=True)
        try:
            name = child.stdout.readline().strip() if child.stdout else ""
            assert name.startswith(f"vnetdoctor-{child.pid}-")
            assert name in kernel_drops_tracefs.instances()
            assert nft_trace.tables(guest) == [f"ip vnetdoctor_trace_{child.pid}"]
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        # Still there: nobody ran a finally. The next run's sweeps remove them (dead PID).
        assert name in kernel_drops_tracefs.instances()
        assert name in kernel_drops_tracefs.sweep()
        assert name not in kernel_drops_tracefs.instances()
        assert nft_trace.sweep(guest) == [f"ip vnetdoctor_trace_{child.pid}"]
        assert nft_trace.tables(guest) == []


def test_an_unexplained_tc_drop_is_named_with_its_fix_and_the_fix_heals(lab_prefix: str) -> None:
    """kernel.drop_unexplained's scenario: the verdict, its runnable fix, and the fix applied."""
    from vnetdoctor.knowledge.apply import apply_fix

    _tracefs_or_skip()
    with lab.up("kernel.drop_unexplained", lab_prefix) as inst:
        d = diagnose(inst.diagnose_args())
        first = d.causes[0]
        assert first.cause == "kernel.drop_unexplained"
        assert "TC_INGRESS in __netif_receive_skb_core" in first.summary
        # The host's echo requests and the guest's echo replies are both dropped there: one cause each.
        words = [e.text for c in d.causes for e in c.evidence]
        assert any(w.startswith("kernel: echo request dropped in __netif_receive_skb_core") for w in words)
        assert {c.cause for c in d.causes} == {"kernel.drop_unexplained"}
        # In Chinese, the kernel's word names the sides in Chinese too (虚拟机/宿主机), devices included.
        zh = [str(e.text) for c in diagnose(inst.diagnose_args(), lang="zh").causes for e in c.evidence
              if str(e.text).startswith("内核")]
        assert any("经过了" in w and "虚拟机 eth0" in w for w in zh), zh
        assert not [w for w in zh if re.search(r"\b(host|guest|other)\b", w)], zh
        fix = first.fixes[0]
        assert fix.runnable and fix.command.endswith("tc qdisc del dev eth0 clsact"), fix
        assert apply_fix(fix, timeout=10).ok
        after = diagnose(inst.diagnose_args())
        assert after.reachable is True and after.causes == ()
